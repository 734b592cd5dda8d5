//! Unit tests of the internals: the event queue and the allocator, each checked against a
//! naive model of docs/model.md section 2 on random operation sequences, plus focused cases.

mod alloc_cases;
mod alloc_gen;
mod alloc_model;
mod naive_alloc;
mod queue_model;
