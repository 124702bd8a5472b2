import Foundation
import MiloSupervisor
import NomadPlugin
import Testing

@testable import Milo

@Suite struct EventBusTests {
  static func config(_ id: String) -> TaskConfig {
    var config = TaskConfig()
    config.id = id
    config.allocID = "alloc-1"
    config.name = "web"
    return config
  }

  @Test func everySubscriberGetsEveryEventWithTheTasksIdentity() async {
    let bus = EventBus()
    let first = bus.subscription()
    let second = bus.subscription()
    #expect(bus.subscriberCount == 2)
    bus.emit(Self.config("alloc-1/web/1"), "hello", annotations: ["k": "v"])
    first.end()
    second.end()
    var got: [[DriverTaskEvent]] = []
    for events in [first.events, second.events] {
      var list: [DriverTaskEvent] = []
      for await event in events { list.append(event) }
      got.append(list)
    }
    for list in got {
      #expect(list.count == 1)
      #expect(list.first?.taskID == "alloc-1/web/1")
      #expect(list.first?.allocID == "alloc-1")
      #expect(list.first?.taskName == "web")
      #expect(list.first?.message == "hello")
      #expect(list.first?.annotations == ["k": "v"])
    }
    #expect(bus.subscriberCount == 0, "ended subscriptions are dropped")
  }

  @Test func aSlowSubscriberKeepsTheNewest256() async {
    let bus = EventBus()
    let (events, end) = bus.subscription()
    for i in 0..<300 { bus.emit(Self.config("t"), "event \(i)") }
    end()
    var messages: [String] = []
    for await event in events { messages.append(event.message) }
    #expect(messages.count == 256)
    #expect(messages.first == "event 44" && messages.last == "event 299")
  }
}
