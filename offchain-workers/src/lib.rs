//! # Lilypad offchain workers: what they compute
//!
//! The pallets' `offchain_worker` hooks read chain state, call into this crate, and submit
//! what it decides as signed transactions. Keeping the decisions here, pure and `no_std`,
//! lets them be tested and benchmarked without a chain, and run the same in the runtime's
//! WASM and natively.
//!
//! - [`matching`]: the solver's round: which open job goes to which provider (docs/design.md §4).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod matching;
