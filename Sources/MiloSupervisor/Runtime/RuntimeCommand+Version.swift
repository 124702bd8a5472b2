extension RuntimeCommand {
  /// `--version`: the runtime's name and version (first line), features and spec version.
  public var versionArguments: [String] { [path, "--version"] }
}
