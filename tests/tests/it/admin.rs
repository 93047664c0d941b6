//! Admin tokens are scoped: every admin route of every integration, read from the route tables,
//! refuses a token scoped to another integration with 403 and an unknown token with 401.
use hirebridge::routes::{describe, Access};
use hirebridge::web::{Request, Response};
use hirebridge_tests::*;
use serde_json::json;
use testkit::driver::admin;

/// The integration's scope, its admin routes, and how the world answers them.
async fn answer(w: &World, scope: &str, req: Request) -> Response {
    match scope {
        "alva" => alva::handle(&w.alva, req).await,
        "learnster" => learnster::handle(&w.deps, req).await,
        "2secure" => twosecure::handle_order(&w.twosecure_order, req).await,
        "sparkhire" => sparkhire::handle(&w.sparkhire, req).await,
        _ => stackone::handle(&w.stackone, req).await,
    }
}

fn admin_routes() -> Vec<(&'static str, String, String)> {
    let tables = [
        ("alva", describe(alva::ROUTES)),
        ("learnster", describe(learnster::ROUTES)),
        ("2secure", describe(twosecure::ORDER_ROUTES)),
        ("sparkhire", describe(sparkhire::ROUTES)),
        ("stackone", describe(stackone::ROUTES)),
    ];
    let mut out = Vec::new();
    for (scope, table) in tables {
        for (method, path, _, access) in table {
            if access == Access::Admin {
                let concrete =
                    path.replace("{id}", "x1").replace("{account}", "a1").replace("{user_id}", "31");
                let concrete = concrete.replace("{owner}", "o1").replace("{event_id}", "e1");
                out.push((scope, method.to_string(), concrete));
            }
        }
    }
    out
}

#[tokio::test]
async fn a_token_scoped_to_one_integration_gets_403_on_every_other_integrations_admin_routes() {
    let w = World::new().await;
    let routes = admin_routes();
    assert!(routes.len() >= 15, "every integration's admin routes were read: {routes:?}");
    for scope in hirebridge::admin::SCOPES {
        let token = scoped_token(scope);
        for (owner, method, path) in routes.iter().filter(|(owner, _, _)| *owner != scope) {
            let resp = answer(&w, owner, admin(method, path, &token, Some(&json!({})))).await;
            assert_eq!(resp.status(), 403, "a {scope} token on {method} {path}: {}", text(&resp));
        }
    }
}

#[tokio::test]
async fn an_unknown_admin_token_gets_401_and_an_own_scope_token_gets_past_authorization() {
    let w = World::new().await;
    for (owner, method, path) in admin_routes() {
        let resp = answer(&w, owner, admin(&method, &path, "not-a-token", Some(&json!({})))).await;
        assert_eq!(resp.status(), 401, "{method} {path}: {}", text(&resp));
        let resp = answer(&w, owner, admin(&method, &path, &scoped_token(owner), Some(&json!({})))).await;
        assert!(
            !matches!(resp.status().as_u16(), 401 | 403),
            "{method} {path} with its own scope: {}",
            text(&resp)
        );
    }
}
