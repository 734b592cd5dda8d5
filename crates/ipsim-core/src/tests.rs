//! Unit tests of the internals.
