/// Helpers shared by every test target (`TempDir`, `caught`, `eventually`) live in the
/// TestSupport target; this re-export makes them visible in each file of this one.
@_exported import TestSupport
