//! The `stackone-credential-link` Lambda: its dependencies built once, then its routes and its scheduled run (the
//! sweep of due work).
hirebridge::lambda_main!(stackone::Deps, stackone::handle, stackone::sweep);
