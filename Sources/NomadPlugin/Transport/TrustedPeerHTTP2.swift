import NIOCore
import NIOHPACK
import NIOHTTP2

extension NIOHTTP2Handler.Configuration {
  /// HTTP/2 settings for a server whose only client is trusted, such as the Nomad client on the
  /// plugin's private socket. That client multiplexes every RPC of every task over one
  /// connection, pings for each burst of data it receives (grpc-go's BDP estimator) and cancels
  /// streams with RST_STREAM, so NIOHTTP2's defaults for untrusted peers (100 concurrent streams,
  /// 200 control frames, resets or stream errors per 30 s, 200 "glitches" per connection, one
  /// empty DATA frame in a row) would have it close the connection under ordinary load.
  ///
  /// The rate limits are lifted by shrinking their window to zero rather than raising their
  /// counts: NIOHTTP2 reserves room for `maximumCount` timestamps up front, and only events
  /// within one clock tick would then count towards a limit no client can reach.
  static func trustedPeer(_ limits: UnixSocketServerTransport.Configuration) -> Self {
    var connection = NIOHTTP2Handler.ConnectionConfiguration()
    connection.initialSettings = [
      HTTP2Setting(parameter: .maxConcurrentStreams, value: limits.maxConcurrentStreams),
      HTTP2Setting(parameter: .initialWindowSize, value: limits.streamWindowSize),
      HTTP2Setting(parameter: .maxFrameSize, value: limits.maxFrameSize),
      HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
    ]
    connection.targetWindowSize = limits.connectionWindowSize
    connection.maximumSequentialEmptyDataFrames = Int(Int32.max)
    connection.maximumConnectionGlitches = Int.max
    connection.controlFrameRateLimit.maximumCount = unlimitedCount
    connection.controlFrameRateLimit.windowLength = .zero

    var stream = NIOHTTP2Handler.StreamConfiguration()
    stream.targetWindowSize = limits.streamWindowSize
    stream.outboundBufferSizeHighWatermark = 64 * 1024
    stream.outboundBufferSizeLowWatermark = 32 * 1024
    stream.streamResetFrameRateLimit.maximumCount = unlimitedCount
    stream.streamResetFrameRateLimit.windowLength = .zero
    stream.streamErrorRateLimit.maximumCount = unlimitedCount
    stream.streamErrorRateLimit.windowLength = .zero
    return Self(connection: connection, stream: stream)
  }

  /// Events that must happen within one clock tick to trip a zero-length rate-limit window.
  private static let unlimitedCount = 4096
}
