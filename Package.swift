// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
  .swiftLanguageMode(.v6),
  .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
  name: "milo",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "milo", targets: ["milo"]),
    .executable(name: "milo-task", targets: ["milo-task"]),
    .executable(name: "nomad-host", targets: ["nomad-host"]),
    .executable(name: "milo-bench", targets: ["milo-bench"]),
    .library(name: "NomadPlugin", targets: ["NomadPlugin"]),
    .library(name: "NomadHost", targets: ["NomadHost"]),
  ],
  dependencies: [
    .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
    .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
    .package(url: "https://github.com/apple/swift-nio-http2.git", exact: "1.46.0"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
    .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
    .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
  ],
  targets: [
    // Generated protobuf and gRPC code for go-plugin's and Nomad's wire protocol.
    .target(
      name: "NomadProto",
      dependencies: [
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      swiftSettings: [.swiftLanguageMode(.v6)]
    ),
    // Small C shims for process spawning and Linux syscalls Swift cannot call safely.
    .target(name: "CMiloSys"),
    // The one systems layer over the C shims, for every module: spawn, pipes, writeAll, the
    // environment, wait statuses, signal names, file locks and the blocking-work executor.
    // Foundation-free, like MiloSupervisor, which the small per-task helper links.
    .target(name: "MiloSys", dependencies: ["CMiloSys"], swiftSettings: strict),
    // A reusable Swift SDK for Nomad task driver plugins: go-plugin server, base and driver protocol.
    .target(
      name: "NomadPlugin",
      dependencies: [
        "NomadProto",
        "MiloSys",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP2", package: "swift-nio-http2"),
        .product(name: "NIOHPACK", package: "swift-nio-http2"),
      ],
      swiftSettings: strict
    ),
    // The per-task supervisor: owns the container process and relays its logs. Foundation-free.
    .target(name: "MiloSupervisor", dependencies: ["MiloSys"], swiftSettings: strict),
    // The milo driver: config, Java discovery, OCI bundles, task handles, state and recovery.
    .target(
      name: "Milo",
      dependencies: [
        "NomadPlugin", "MiloSupervisor", "MiloSys",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict
    ),
    // A Nomad client emulator: launches driver plugins as Nomad does, with logmon and a task runner.
    .target(
      name: "NomadHost",
      dependencies: [
        "NomadPlugin", "NomadProto", "MiloSys",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
      ],
      swiftSettings: strict
    ),
    // A real Nomad cluster on loopback (server + client agents, CLI, HTTP API, job files) for the
    // end-to-end suite and the Nomad benchmarks.
    .target(name: "NomadE2E", dependencies: ["MiloSys"], swiftSettings: strict),
    .executableTarget(
      name: "milo",
      dependencies: ["Milo", "MiloSupervisor", "MiloSys", "NomadPlugin"],
      swiftSettings: strict
    ),
    // The per-task helper (supervisor and container init): MiloSupervisor alone, kept small.
    .executableTarget(name: "milo-task", dependencies: ["MiloSupervisor", "MiloSys"], swiftSettings: strict),
    .executableTarget(
      name: "milo-bench",
      dependencies: [
        "NomadHost", "NomadPlugin", "Milo", "MiloSupervisor", "MiloSys", "NomadE2E",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict
    ),
    .executableTarget(
      name: "nomad-host",
      dependencies: [
        "NomadHost", "MiloSys",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strict
    ),
    .testTarget(
      name: "NomadPluginTests",
      dependencies: [
        "NomadPlugin", "MiloSys", "TestSupport",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP2", package: "swift-nio-http2"),
      ],
      swiftSettings: strict),
    // Helpers shared by the test targets (temporary directories, typed-error capture, polling).
    .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
    .testTarget(
      name: "MiloTests", dependencies: ["Milo", "MiloSupervisor", "MiloSys", "TestSupport"], swiftSettings: strict),
    .testTarget(name: "MiloSysTests", dependencies: ["MiloSys", "TestSupport"], swiftSettings: strict),
    .testTarget(
      name: "MiloSupervisorTests", dependencies: ["MiloSupervisor", "MiloSys", "TestSupport"], swiftSettings: strict),
    .testTarget(
      name: "NomadHostTests",
      dependencies: [
        "NomadHost", "NomadPlugin", "NomadProto", "MiloSupervisor", "MiloSys", "TestSupport",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      swiftSettings: strict),
    .testTarget(
      name: "IntegrationTests",
      dependencies: [
        "NomadHost", "Milo", "MiloSupervisor", "MiloSys", "NomadPlugin", "NomadProto", "TestSupport",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict),
    .testTarget(name: "EndToEndTests", dependencies: ["NomadE2E", "MiloSys"], swiftSettings: strict),
  ]
)
