# The demo job for a real Nomad agent with milo in its plugin_dir (see README, "Try it under
# Nomad"). Nomad's artifact getter needs a URL, so serve the test JAR over HTTP first:
#   scripts/build-testapp.sh && (cd .build/testapp && python3 -m http.server 8000 &)
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
        source = "http://127.0.0.1:8000/testapp.jar"
      }

      config {
        jvm_options = ["-Xmx64m"]
        args        = ["serve"]
      }

      resources {
        cpu    = 500
        memory = 256
      }

      kill_timeout = "5s"
    }
  }
}
