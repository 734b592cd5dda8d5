//! Unit tests of the internals: the event queue and the allocator, each checked against a
//! naive model of MODEL.md section 2 on random operation sequences, plus focused cases.

mod queue_model;
