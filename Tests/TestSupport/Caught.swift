import Testing

/// The typed error `body` throws; records an issue when it succeeds or throws another type.
public func caught<E: Error, T>(
  _ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T
) -> E? {
  expectError(E.self, Result(catching: body), sourceLocation)
}

/// The typed error async `body` throws; records an issue when it succeeds or throws another type.
public func caught<E: Error, T>(
  _ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async -> E? {
  let result: Result<T, any Error>
  do {
    result = .success(try await body())
  } catch {
    result = .failure(error)
  }
  return expectError(E.self, result, sourceLocation)
}

private func expectError<E: Error, T>(
  _ type: E.Type, _ result: Result<T, any Error>, _ sourceLocation: SourceLocation
) -> E? {
  switch result {
  case .failure(let error as E):
    return error
  case .failure(let error):
    Issue.record("expected \(E.self), got \(error)", sourceLocation: sourceLocation)
  case .success(let value):
    Issue.record("expected \(E.self), got \(value)", sourceLocation: sourceLocation)
  }
  return nil
}
