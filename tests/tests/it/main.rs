//! The one integration-test binary: every function's handlers against the real DynamoDB and
//! Secrets Manager API (the moto server `make test` starts) and the testkit's fakes over HTTP.
mod admin;
mod alva;
mod browser;
mod cards;
mod fuzz;
mod learnster;
mod probe;
mod sparkhire;
mod stackone;
mod stacks;
mod store;
mod teamtailor;
mod twosecure;
mod work;
