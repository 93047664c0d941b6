//! The `sparkhire-key-exchange` Lambda: its dependencies built once, then its routes and its scheduled run (the
//! sweep of due work).
hirebridge::lambda_main!(sparkhire::Deps, sparkhire::handle, sparkhire::sweep);
