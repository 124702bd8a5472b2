@_exported import TestSupport

#if canImport(Glibc)
  @_exported import Glibc
#endif
