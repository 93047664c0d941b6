//! The `learnster-webhook` Lambda: its dependencies built once, then its routes and its scheduled run (the
//! sweep of due work).
hirebridge::lambda_main!(learnster::Deps, learnster::handle, learnster::sweep);
