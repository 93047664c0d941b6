//! The local runner behind `make dev` and `make demo` (README.md): every function's routes on one
//! port with API Gateway's paths, embedded storage, secrets from a JSON file, and, unless the
//! `*_API_URL` variables point elsewhere, the fakes of the outside services from `testkit`; and
//! `make probe`'s read-only check of the outside services' contracts ([`probe`]).
pub mod demo;
pub mod probe;
pub mod server;
