# milo's demo job: the test JAR as a service that logs a line every 2 s. Nomad's artifact getter
# needs a URL; scripts/demo.sh serves the JAR on loopback and passes it as `-var artifact=...`.
variable "artifact" {
  type    = string
  default = "http://127.0.0.1:8000/testapp.jar"
}

job "demo" {
  datacenters = ["dc1"]
  type        = "service"

  group "app" {
    restart {
      attempts = 0
      mode     = "fail"
    }

    task "java-app" {
      driver = "milo"

      artifact {
        source = var.artifact
      }

      config {
        jvm_options = ["-Xmx64m"]
        args        = ["serve", "2000"]
      }

      resources {
        cpu    = 500
        memory = 256
      }

      kill_timeout = "5s"
    }
  }
}
