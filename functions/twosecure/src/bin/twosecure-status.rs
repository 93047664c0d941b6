//! The `twosecure-status` Lambda: its dependencies built once, then its routes (the callback) and its scheduled run (the
//! status poll).
hirebridge::lambda_main!(twosecure::Deps, twosecure::handle_status, twosecure::status_sweep);
