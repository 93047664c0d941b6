//! The `twosecure-order` Lambda: its dependencies built once, then its routes and its scheduled run (the
//! sweep of due work).
hirebridge::lambda_main!(twosecure::Deps, twosecure::handle_order, twosecure::sweep);
