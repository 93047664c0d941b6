//! The floor without logging: `lambda_http::run` and a handler, nothing else.
use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_event: Request| async {
        Ok::<_, Error>(Response::builder().status(200).body(Body::from("Hello world"))?)
    }))
    .await
}
