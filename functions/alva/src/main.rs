//! The `alva-activation` Lambda: its dependencies built once, then its routes and its scheduled run (the
//! sweep of due work).
hirebridge::lambda_main!(alva::Deps, alva::handle, alva::sweep);
