import Foundation
import NomadProto

/// What the client records about a driver from its fingerprints (Nomad's `structs.DriverInfo`).
public struct DriverInfo: Sendable, Equatable {
  /// Attributes rendered with `Attribute.GoString` (value plus unit).
  public var attributes: [String: String]
  /// `health != UNDETECTED`.
  public var detected: Bool
  /// `health == HEALTHY`.
  public var healthy: Bool
  public var healthDescription: String
  public var updateTime: Date
  /// The response this came from (nil for "failed to fingerprint driver").
  public var response: FingerprintResponseProto?

  /// `handleFingerprint`.
  public init(_ response: FingerprintResponseProto, at time: Date = Date()) {
    attributes = response.attributes.mapValues(DriverInfo.goString)
    detected = response.health != .undetected
    healthy = response.health == .healthy
    healthDescription = response.healthDescription
    updateTime = time
    self.response = response
  }

  /// `handleFingerprintError`.
  public static func fingerprintFailed(at time: Date = Date()) -> DriverInfo {
    DriverInfo(
      attributes: [:], detected: false, healthy: false, healthDescription: "failed to fingerprint driver",
      updateTime: time, response: nil)
  }

  private init(
    attributes: [String: String], detected: Bool, healthy: Bool, healthDescription: String, updateTime: Date,
    response: FingerprintResponseProto?
  ) {
    self.attributes = attributes
    self.detected = detected
    self.healthy = healthy
    self.healthDescription = healthDescription
    self.updateTime = updateTime
    self.response = response
  }

  /// Whether the scheduler would place tasks on this driver (`Detected && Healthy`).
  public var usable: Bool { detected && healthy }

  /// `Attribute.GoString`.
  public static func goString(_ attribute: Hashicorp_Nomad_Plugins_Shared_Structs_Attribute) -> String {
    var out: String
    switch attribute.value {
    case .floatVal(let value): out = goFloat(value)
    case .intVal(let value): out = String(value)
    case .boolVal(let value): out = value ? "true" : "false"
    case .stringVal(let value): out = value
    case .none: out = ""
    }
    return out + attribute.unit
  }

  /// Go's `%v` for a float64.
  static func goFloat(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
    let exponent = value == 0 ? 0 : Int(floor(log10(abs(value))))
    if exponent < -4 || exponent >= 21 {
      let mantissa = value / pow(10, Double(exponent))
      var m = "\(mantissa)"
      if m.hasSuffix(".0") { m.removeLast(2) }
      let sign = exponent < 0 ? "-" : "+"
      let digits = abs(exponent) < 10 ? "0\(abs(exponent))" : "\(abs(exponent))"
      return "\(m)e\(sign)\(digits)"
    }
    if value == value.rounded() { return String(format: "%.0f", value) }
    return "\(value)"
  }
}
