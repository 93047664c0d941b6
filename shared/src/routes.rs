//! Routes declared once per integration: method, path, the Lambda that serves it, who may call it,
//! how it answers errors, and its handler. The integration's router, the local runner and the
//! route-consistency test (against `template.yaml`) all read the same table.
use futures::future::BoxFuture;
use http::Method;

use crate::error::{AppResult, Style};
use crate::web::{Request, Response};
use crate::AppError;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Teamtailor, with the listing's provider key (and a signed body on webhooks).
    Teamtailor,
    /// An operator with an admin token.
    Admin,
    /// A person holding a signed, single-use ticket (link pages).
    Ticket,
    /// The outside service, with its signature or credentials.
    Vendor,
    /// Anyone (the route holds nothing secret).
    Public,
}

/// The values of a route's `{…}` path parameters, in order.
#[derive(Clone, Copy, Debug)]
pub struct Params<'a> {
    values: [&'a str; 4],
    len: usize,
}

impl<'a> Params<'a> {
    /// The `i`th parameter (routes with fewer are never dispatched here: the pattern decides).
    pub fn get(&self, i: usize) -> &'a str {
        if i < self.len {
            self.values[i]
        } else {
            ""
        }
    }
}

pub type Handler<D> = for<'a> fn(&'a D, &'a Request, Params<'a>) -> BoxFuture<'a, AppResult<Response>>;

pub struct Route<D: 'static> {
    pub method: Method,
    /// API Gateway's path, e.g. `/alva/companies/{id}/teamtailor`.
    pub path: &'static str,
    /// The Lambda (binary) that serves it.
    pub function: &'static str,
    pub access: Access,
    pub style: Style,
    pub handler: Handler<D>,
}

/// What a table declares, without its handlers: (method, path, function, access).
pub fn describe<D>(routes: &[Route<D>]) -> Vec<(Method, &'static str, &'static str, Access)> {
    routes.iter().map(|r| (r.method.clone(), r.path, r.function, r.access)).collect()
}

/// The parameters of `path` if it matches `pattern` segment by segment.
pub fn match_path<'a>(pattern: &str, path: &'a str) -> Option<Params<'a>> {
    let mut params = Params { values: [""; 4], len: 0 };
    let mut given = path.split('/').filter(|s| !s.is_empty());
    for want in pattern.split('/').filter(|s| !s.is_empty()) {
        let seg = given.next()?;
        if want.starts_with('{') && want.ends_with('}') {
            if params.len == params.values.len() {
                return None;
            }
            params.values[params.len] = seg;
            params.len += 1;
        } else if want != seg {
            return None;
        }
    }
    given.next().is_none().then_some(params)
}

/// The route for a request, with its parameters; `None` when nothing matches.
pub fn find<'r, 'a, D>(
    routes: &'r [Route<D>],
    method: &Method,
    path: &'a str,
) -> Option<(&'r Route<D>, Params<'a>)> {
    routes
        .iter()
        .find_map(|r| (r.method == method).then(|| match_path(r.path, path)).flatten().map(|p| (r, p)))
}

/// Serves `req` with the matching route of `routes`; `404` (or `405`) in problem+json otherwise.
pub async fn dispatch<D>(routes: &[Route<D>], deps: &D, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let Some((route, params)) = find(routes, req.method(), &path) else {
        let known = routes.iter().any(|r| match_path(r.path, &path).is_some());
        let e = if known {
            AppError::new(
                http::StatusCode::METHOD_NOT_ALLOWED,
                format!("{} is not allowed on {path}", req.method()),
            )
        } else {
            AppError::not_found(format!("no route {} {path}", req.method()))
        };
        return e.into_response(Style::Problem);
    };
    (route.handler)(deps, &req, params).await.unwrap_or_else(|e| e.into_response(route.style))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_taken_from_their_segments() {
        let p = match_path(
            "/alva/companies/{id}/teamtailor/accounts/{account}",
            "/alva/companies/c1/teamtailor/accounts/a2",
        )
        .expect("matches");
        assert_eq!((p.get(0), p.get(1)), ("c1", "a2"));
        assert!(match_path("/alva/companies/{id}/teamtailor", "/alva/companies/c1/teamtailor/x").is_none());
        assert!(match_path("/alva/companies/{id}/teamtailor", "/alva/companies").is_none());
        assert!(match_path("/alva/webhook", "/alva/webhook/").is_some());
    }

    struct Deps;
    static ROUTES: &[Route<Deps>] = &[Route {
        method: Method::GET,
        path: "/x/{id}",
        function: "x",
        access: Access::Public,
        style: Style::Problem,
        handler: |_, _, p| Box::pin(async move { Ok(crate::web::text(http::StatusCode::OK, p.get(0))) }),
    }];

    #[tokio::test]
    async fn a_request_reaches_its_handler_and_others_get_404_or_405() {
        let get =
            |m: Method, p: &str| http::Request::builder().method(m).uri(p).body(bytes::Bytes::new()).unwrap();
        let ok = dispatch(ROUTES, &Deps, get(Method::GET, "/x/7")).await;
        assert_eq!((ok.status().as_u16(), &ok.body()[..]), (200, &b"7"[..]));
        assert_eq!(dispatch(ROUTES, &Deps, get(Method::POST, "/x/7")).await.status(), 405);
        assert_eq!(dispatch(ROUTES, &Deps, get(Method::GET, "/y")).await.status(), 404);
    }
}
