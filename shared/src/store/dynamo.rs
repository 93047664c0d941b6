//! The production adapter: one DynamoDB table (`pk`, `sk`), the sparse GSI `due` on
//! (`due_queue`, `due_at`), TTL on `expires_at`.
use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use serde_json::{Number, Value};

use crate::aws_http::{Lazy, LazySdk};

use super::{AllOutcome, Attrs, Cond, Item, ItemStore, PutOutcome, StoreError, DUE_AT, DUE_QUEUE, MAX_ALL};

pub const DUE_INDEX: &str = "due";

pub struct DynamoStore {
    client: Lazy<Client>,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client: Lazy::built(client), table: table.into() }
    }

    /// With the client built on the first call ([`LazySdk`]).
    pub fn on_first_use(sdk: std::sync::Arc<LazySdk>, table: impl Into<String>) -> Self {
        DynamoStore { client: Lazy::on_first_use(sdk, Client::new), table: table.into() }
    }
}

fn err(context: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("{context}: {e}"))
}

/// Tries of a single write that a transaction holding its item refused.
const CONFLICT_ATTEMPTS: u32 = 5;

#[async_trait]
impl ItemStore for DynamoStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get()
            .await
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .key("sk", AttributeValue::S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err("GetItem", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        Ok(out.item.map(from_attributes))
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<PutOutcome, StoreError> {
        let mut request =
            self.client.get().await.put_item().table_name(&self.table).set_item(Some(to_attributes(item)));
        if let Some(cond) = cond {
            let mut expr = Expr::default();
            let text = expr.render(&cond);
            request = request
                .condition_expression(text)
                .set_expression_attribute_names((!expr.names.is_empty()).then_some(expr.names))
                .set_expression_attribute_values((!expr.values.is_empty()).then_some(expr.values))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        }
        // An item a transaction holds refuses a single write with TransactionConflictException
        // (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html):
        // the transaction ends in milliseconds, so the write is tried again, a few times, while
        // the invocation has time.
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match request.clone().send().await {
                Ok(_) => return Ok(PutOutcome::Written),
                Err(SdkError::ServiceError(service)) => match service.into_err() {
                    PutItemError::ConditionalCheckFailedException(e) => {
                        return Ok(PutOutcome::Rejected(e.item.map(from_attributes)))
                    }
                    PutItemError::TransactionConflictException(e) if attempt < CONFLICT_ATTEMPTS => {
                        let wait = Duration::from_millis(20 << attempt);
                        if crate::outbound::time_left().is_some_and(|left| left < wait * 4) {
                            return Err(err("PutItem", aws_sdk_dynamodb::error::DisplayErrorContext(e)));
                        }
                        tokio::time::sleep(wait).await;
                    }
                    other => return Err(err("PutItem", aws_sdk_dynamodb::error::DisplayErrorContext(other))),
                },
                Err(e) => return Err(err("PutItem", aws_sdk_dynamodb::error::DisplayErrorContext(e))),
            }
        }
    }

    async fn put_all(&self, puts: Vec<(Item, Option<Cond>)>) -> Result<AllOutcome, StoreError> {
        if puts.len() > MAX_ALL {
            return Err(StoreError(format!("{} items written together; at most {MAX_ALL}", puts.len())));
        }
        let mut writes = Vec::with_capacity(puts.len());
        for (item, cond) in puts {
            let mut put = Put::builder().table_name(&self.table).set_item(Some(to_attributes(item)));
            if let Some(cond) = cond {
                let mut expr = Expr::default();
                put = put
                    .condition_expression(expr.render(&cond))
                    .set_expression_attribute_names((!expr.names.is_empty()).then_some(expr.names))
                    .set_expression_attribute_values((!expr.values.is_empty()).then_some(expr.values));
            }
            let put = put.build().map_err(|e| err("TransactWriteItems", e))?;
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        let sent =
            self.client.get().await.transact_write_items().set_transact_items(Some(writes)).send().await;
        match sent {
            Ok(_) => Ok(AllOutcome::Written),
            Err(SdkError::ServiceError(service)) => match service.into_err() {
                TransactWriteItemsError::TransactionCanceledException(e)
                    if e.cancellation_reasons()
                        .iter()
                        .any(|r| r.code() == Some("ConditionalCheckFailed")) =>
                {
                    let failed = e
                        .cancellation_reasons()
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                        .map(|(i, _)| i)
                        .collect();
                    Ok(AllOutcome::Rejected(failed))
                }
                // Cancelled for another reason (a concurrent transaction on one of its items):
                // nothing was written, and no condition failed.
                TransactWriteItemsError::TransactionCanceledException(_) => {
                    Ok(AllOutcome::Rejected(Vec::new()))
                }
                other => Err(err("TransactWriteItems", aws_sdk_dynamodb::error::DisplayErrorContext(other))),
            },
            Err(e) => Err(err("TransactWriteItems", aws_sdk_dynamodb::error::DisplayErrorContext(e))),
        }
    }

    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.client
            .get()
            .await
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .key("sk", AttributeValue::S(sk.to_owned()))
            .send()
            .await
            .map_err(|e| err("DeleteItem", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    async fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .get()
                .await
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
                .expression_attribute_values(":prefix", AttributeValue::S(sk_prefix.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| err("Query", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
            items.extend(out.items.unwrap_or_default().into_iter().map(from_attributes));
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    async fn query_due(&self, queue: &str, due_before: i64, limit: usize) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        while items.len() < limit {
            let out = self
                .client
                .get()
                .await
                .query()
                .table_name(&self.table)
                .index_name(DUE_INDEX)
                .key_condition_expression("#q = :q AND #at <= :before")
                .expression_attribute_names("#q", DUE_QUEUE)
                .expression_attribute_names("#at", DUE_AT)
                .expression_attribute_values(":q", AttributeValue::S(queue.to_owned()))
                .expression_attribute_values(":before", AttributeValue::N(due_before.to_string()))
                .limit((limit - items.len()).min(1000) as i32)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| err("Query due", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
            items.extend(out.items.unwrap_or_default().into_iter().map(from_attributes));
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        items.truncate(limit);
        Ok(items)
    }
}

/// Renders a [`Cond`] as a DynamoDB condition expression with placeholders.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    fn name(&mut self, name: &str) -> String {
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn render(&mut self, cond: &Cond) -> String {
        match cond {
            Cond::NotExists => "attribute_not_exists(pk)".to_owned(),
            Cond::Eq(name, value) => {
                let n = self.name(name);
                let v = self.value(to_attribute(value.clone()));
                format!("{n} = {v}")
            }
            Cond::Lt(name, value) => {
                let n = self.name(name);
                let v = self.value(AttributeValue::N(value.to_string()));
                format!("{n} < {v}")
            }
            Cond::Or(cs) => self.join(cs, " OR "),
            Cond::And(cs) => self.join(cs, " AND "),
        }
    }

    /// Parentheses only around a part that joins several conditions: DynamoDB refuses redundant
    /// ones (`((a))`), which a one-part `And`/`Or` inside another would otherwise give.
    fn join(&mut self, cs: &[Cond], op: &str) -> String {
        if let [only] = cs {
            return self.render(only);
        }
        let parts: Vec<String> = cs
            .iter()
            .map(|c| match c {
                Cond::Or(inner) | Cond::And(inner) if inner.len() > 1 => format!("({})", self.render(c)),
                _ => self.render(c),
            })
            .collect();
        parts.join(op)
    }
}

fn to_attributes(item: Item) -> HashMap<String, AttributeValue> {
    let mut map: HashMap<String, AttributeValue> =
        item.attrs.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, to_attribute(v))).collect();
    map.insert("pk".into(), AttributeValue::S(item.pk));
    map.insert("sk".into(), AttributeValue::S(item.sk));
    map
}

fn from_attributes(mut map: HashMap<String, AttributeValue>) -> Item {
    let take = |map: &mut HashMap<String, AttributeValue>, key: &str| match map.remove(key) {
        Some(AttributeValue::S(s)) => s,
        _ => String::new(),
    };
    let pk = take(&mut map, "pk");
    let sk = take(&mut map, "sk");
    let attrs: Attrs = map.into_iter().map(|(k, v)| (k, from_attribute(v))).collect();
    Item { pk, sk, attrs }
}

fn to_attribute(value: Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s),
        Value::Array(a) => AttributeValue::L(a.into_iter().map(to_attribute).collect()),
        Value::Object(o) => AttributeValue::M(o.into_iter().map(|(k, v)| (k, to_attribute(v))).collect()),
    }
}

fn from_attribute(value: AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => Value::String(s),
        AttributeValue::N(n) => n
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| n.parse::<f64>().map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)))
            .unwrap_or(Value::Null),
        AttributeValue::Bool(b) => Value::Bool(b),
        AttributeValue::L(l) => Value::Array(l.into_iter().map(from_attribute).collect()),
        AttributeValue::M(m) => Value::Object(m.into_iter().map(|(k, v)| (k, from_attribute(v))).collect()),
        AttributeValue::Ss(ss) => Value::Array(ss.into_iter().map(Value::String).collect()),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_round_trip_through_attribute_values() {
        let item = Item::new("P", "S").with("n", 3).with("m", json!({"a": [true, "x", 1.5]}));
        let back = from_attributes(to_attributes(item.clone()));
        assert_eq!(back, item);
    }

    #[test]
    fn conditions_render_with_placeholders() {
        let mut e = Expr::default();
        let text = e.render(&Cond::Or(vec![
            Cond::NotExists,
            Cond::And(vec![Cond::Eq("status", json!("x")), Cond::Lt("lease", 5)]),
        ]));
        assert_eq!(text, "attribute_not_exists(pk) OR (#n0 = :v0 AND #n1 < :v1)");
        assert_eq!(e.names["#n1"], "lease");
    }

    #[test]
    fn a_nested_one_part_condition_renders_without_redundant_parentheses() {
        let mut e = Expr::default();
        let nested = Cond::And(vec![Cond::Or(vec![Cond::Eq("status", json!("x"))])]);
        assert_eq!(e.render(&nested), "#n0 = :v0");
        let mixed = Cond::Or(vec![Cond::And(vec![Cond::Lt("v", 1)]), Cond::NotExists]);
        assert_eq!(e.render(&mixed), "#n1 < :v1 OR attribute_not_exists(pk)");
    }
}
