//! JSON:API as Teamtailor serves it, for the public API and the partner API: error documents,
//! the media type of writes, the resource object of a write, `include=` and `page[...]`.
//! Error titles, details and codes are those of `jsonapi-resources` (`lib/jsonapi/exceptions.rb`,
//! `error_codes.rb`), whose conventions Teamtailor's answers follow (docs/contracts.md TA-04..TA-09).
use std::collections::BTreeSet;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::common::{self, Here};

pub const MEDIA_TYPE: &str = "application/vnd.api+json";
/// Teamtailor's largest page (`page[size]` "Default: 10, max: 30").
pub const MAX_PAGE_SIZE: usize = 30;
pub const DEFAULT_PAGE_SIZE: usize = 10;

/// A JSON:API error document with one error.
pub(crate) fn error(status: StatusCode, code: &str, title: &str, detail: &str) -> Response {
    let body = json!({"errors": [{
        "title": title, "detail": detail, "code": code, "status": status.as_u16().to_string()
    }]});
    with_media_type((status, body.to_string()).into_response())
}

/// A validation error (`422`, code 100) pointing at an attribute or relationship.
pub(crate) fn invalid(pointer: &str, name: &str, message: &str) -> Response {
    let body = json!({"errors": [{
        "title": message, "detail": format!("{name} - {message}"), "code": "100", "status": "422",
        "source": {"pointer": pointer}
    }]});
    with_media_type((StatusCode::UNPROCESSABLE_ENTITY, body.to_string()).into_response())
}

pub(crate) fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "404",
        "Record not found",
        &format!("The record identified by {id} could not be found."),
    )
}

/// A successful document; echoes the `X-Api-Version` the request used.
pub(crate) fn document(status: StatusCode, version: &str, body: Value) -> Response {
    let mut resp = with_media_type((status, body.to_string()).into_response());
    if let Ok(v) = HeaderValue::from_str(version) {
        resp.headers_mut().insert("x-api-version", v);
    }
    resp
}

fn with_media_type(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    resp
}

/// `415` unless a write says `Content-Type: application/vnd.api+json`, with no media type
/// parameters (JSON:API 1.0: "Servers MUST respond with a 415 ... with any media type parameters").
pub(crate) fn require_media_type(headers: &HeaderMap) -> Result<(), Response> {
    let given = common::header(headers, "content-type").unwrap_or_default();
    if given == MEDIA_TYPE {
        return Ok(());
    }
    Err(error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "415",
        "Unsupported media type",
        &format!(
            "All requests that create or update must use the '{MEDIA_TYPE}' Content-Type. This request specified '{given}'."
        ),
    ))
}

fn parameter_missing(name: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "106",
        "Missing Parameter",
        &format!("The required parameter, {name}, is missing."),
    )
}

/// The resource object of an update (`PATCH`, or the partner API's `PUT`), checked in the order
/// `jsonapi-resources` checks it: a JSON object with `data` (else 400, code 106), `data` an object
/// (122), `data.id` present (109 "A key is required"), `data.id` the URL's id (110), `data.type`
/// present (106) and the resource's type (101).
pub(crate) fn resource_object(body: &[u8], kind: &str, url_id: &str) -> Result<Map<String, Value>, Response> {
    let Some(doc) = common::json_of(body) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "400",
            "Bad Request",
            "The request body is not valid JSON.",
        ));
    };
    let Some(data) = doc.get("data").filter(|d| !d.is_null()) else {
        return Err(parameter_missing("data"));
    };
    let Some(data) = data.as_object() else {
        return Err(error(StatusCode::BAD_REQUEST, "122", "Invalid data format", "Data must be a hash."));
    };
    let id = match data.get("id") {
        None | Some(Value::Null) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "109",
                "A key is required",
                "The resource object does not contain a key.",
            ))
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if id != url_id {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "110",
            "Key is not included in URL",
            &format!("The URL does not support the key {id}"),
        ));
    }
    match data.get("type").and_then(Value::as_str) {
        None => Err(parameter_missing("type")),
        Some(t) if t != kind => Err(error(
            StatusCode::BAD_REQUEST,
            "101",
            "Invalid resource",
            &format!("{t} is not a valid resource."),
        )),
        Some(_) => Ok(data.clone()),
    }
}

/// The relationships named in `include=` (first segment of each path), each one of `allowed`;
/// else `400` ("Invalid field", code 112).
pub(crate) fn includes(here: &Here, kind: &str, allowed: &[&str]) -> Result<BTreeSet<String>, Response> {
    let mut out = BTreeSet::new();
    for path in here.param("include").unwrap_or_default().split(',').filter(|p| !p.is_empty()) {
        let first = path.split('.').next().unwrap_or_default();
        if !allowed.contains(&first) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "112",
                "Invalid field",
                &format!("{path} is not a valid relationship of {kind}"),
            ));
        }
        out.insert(first.to_owned());
    }
    Ok(out)
}

/// `page[number]` and `page[size]`, 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Page {
    pub number: usize,
    pub size: usize,
}

fn invalid_page(name: &str, value: &str, detail: Option<String>) -> Response {
    let detail = detail.unwrap_or_else(|| format!("{value} is not a valid value for {name} page parameter."));
    error(StatusCode::BAD_REQUEST, "118", "Invalid page value", &detail)
}

/// The page a list request asks for: `page[size]` from 1 to 30 (default 10), `page[number]` from 1;
/// anything else is `400` ("Invalid page value", code 118).
pub(crate) fn page(here: &Here) -> Result<Page, Response> {
    let read = |name: &str, default: usize| -> Result<usize, Response> {
        match here.param(&format!("page[{name}]")) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(invalid_page(name, v, None)),
            },
        }
    };
    let number = read("number", 1)?;
    let size = read("size", DEFAULT_PAGE_SIZE)?;
    if size > MAX_PAGE_SIZE {
        return Err(invalid_page(
            "size",
            &size.to_string(),
            Some(format!("size exceeds maximum page size of {MAX_PAGE_SIZE}.")),
        ));
    }
    Ok(Page { number, size })
}

/// One page of `rows`, with `meta.record-count`/`page-count` and `links` (`first`, `last`, and
/// `prev`/`next` where there is one). `serve_at_most` lets a fake serve smaller pages than asked
/// (a server may), so that callers must follow `links.next`. `url` is the list's absolute URL; the
/// links keep the request's other parameters (`include=`).
pub(crate) fn paged<T: Clone>(
    rows: &[T],
    page: Page,
    serve_at_most: Option<usize>,
    here: &Here,
    url: &str,
) -> (Vec<T>, Value, Value) {
    let size = serve_at_most.map_or(page.size, |cap| page.size.min(cap));
    let pages = rows.len().div_ceil(size).max(1);
    let slice: Vec<T> = rows.iter().skip((page.number - 1) * size).take(size).cloned().collect();
    let link = |n: usize| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        let mut others: Vec<(&String, &String)> =
            here.query.iter().filter(|(k, _)| !k.starts_with("page[")).collect();
        others.sort();
        q.extend_pairs(others);
        q.append_pair("page[number]", &n.to_string());
        q.append_pair("page[size]", &size.to_string());
        format!("{url}?{}", q.finish())
    };
    let mut links = json!({"first": link(1), "last": link(pages)});
    if page.number > 1 {
        links["prev"] = json!(link(page.number - 1));
    }
    if page.number < pages {
        links["next"] = json!(link(page.number + 1));
    }
    let meta = json!({"record-count": rows.len(), "page-count": pages});
    (slice, links, meta)
}

/// A relationship of a resource: `links` always, linkage `data` only when it was included.
pub(crate) fn relationship(resource_url: &str, name: &str, linkage: Option<Value>) -> Value {
    let mut rel = json!({"links": {
        "self": format!("{resource_url}/relationships/{name}"),
        "related": format!("{resource_url}/{name}"),
    }});
    if let Some(data) = linkage {
        rel["data"] = data;
    }
    rel
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here(query: &[(&str, &str)]) -> Here {
        Here {
            origin: "http://h/_sandbox".into(),
            region: crate::common::Region::Eu,
            query: query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        }
    }

    #[test]
    fn pages_link_to_the_next_one_except_the_last() {
        let rows: Vec<u32> = (1..=25).collect();
        let h = here(&[("include", "user"), ("page[size]", "10")]);
        let p = page(&h).unwrap();
        let (first, links, meta) = paged(&rows, p, None, &h, "http://h/x");
        assert_eq!(first, (1..=10).collect::<Vec<_>>());
        assert_eq!(links["next"], "http://h/x?include=user&page%5Bnumber%5D=2&page%5Bsize%5D=10");
        assert_eq!(meta, json!({"record-count": 25, "page-count": 3}));
        let (last, links, _) = paged(&rows, Page { number: 3, size: 10 }, None, &h, "http://h/x");
        assert_eq!(last, vec![21, 22, 23, 24, 25]);
        assert!(links.get("next").is_none() && links.get("prev").is_some());
    }

    #[test]
    fn a_page_size_over_thirty_or_under_one_is_refused_with_400() {
        for bad in ["31", "0", "ten"] {
            let err = page(&here(&[("page[size]", bad)])).unwrap_err();
            assert_eq!(err.status(), StatusCode::BAD_REQUEST, "{bad}");
        }
        assert_eq!(page(&here(&[])).unwrap(), Page { number: 1, size: 10 });
        assert_eq!(page(&here(&[("page[size]", "30")])).unwrap().size, 30);
    }
}
