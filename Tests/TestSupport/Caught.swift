import Testing

/// The typed error `body` throws; records an issue when it succeeds or throws another type.
public func caught<E: Error, T>(
  _ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T
) -> E? {
  do {
    let value = try body()
    Issue.record("expected \(E.self), got \(value)", sourceLocation: sourceLocation)
    return nil
  } catch let error as E {
    return error
  } catch {
    Issue.record("expected \(E.self), got \(error)", sourceLocation: sourceLocation)
    return nil
  }
}
