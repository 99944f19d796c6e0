//! `updraft logs` on Azure: a function's log lines are the `traces` (and `exceptions`) its app
//! sends to Application Insights, read with a query to Application Insights' query API
//! (`POST /v1/apps/{appId}/query`, a Kusto query) for one function (`operation_Name`) and the
//! time window, oldest first. An app without Application Insights (`provider.appInsights` not
//! set) has no log updraft can read: the error says how to turn it on or what to use instead.

use azure_core::http::{Method, Request, Url};
use serde_json::{json, Value as Json};

use super::arm;
use super::backend::AzureBackend;
use super::resources::{INSIGHTS, INSIGHTS_API};
use crate::plan::ResourceId;
use crate::provider::{LogEvent, LogPage, LogQuery, ProviderError};

/// The most lines one query returns; `--tail` asks again from the newest line seen.
const PAGE_SIZE: usize = 1000;

pub async fn log_page(backend: &AzureBackend, query: &LogQuery) -> Result<LogPage, ProviderError> {
    let id = ResourceId::new(INSIGHTS, &backend.names.insights);
    let no_insights = || ProviderError::Call {
        operation: "read the function's log".into(),
        resource: backend.names.app.clone(),
        message: "the app sends its logs to no Application Insights component".into(),
        help: format!(
            "set `provider.appInsights: true` and deploy; until then, stream the log with `az \
             webapp log tail --name {} --resource-group {}`",
            backend.names.app, backend.names.resource_group
        ),
    };
    if !backend.reading.app.insights {
        return Err(no_insights());
    }
    let component = backend
        .arm
        .get(&backend.names.insights_path(), INSIGHTS_API)
        .await
        .map_err(|e| backend.failed("read the Application Insights component", &id, e))?
        .ok_or_else(no_insights)?;
    let app_id = component
        .pointer("/properties/AppId")
        .and_then(Json::as_str)
        .ok_or_else(|| ProviderError::Call {
            operation: "read the Application Insights component".into(),
            resource: id.to_string(),
            message: "it has no AppId".into(),
            help: "run `updraft deploy` again".into(),
        })?;
    let url = format!(
        "{}/v1/apps/{app_id}/query",
        backend.endpoints.insights_base()
    );
    let failed = |message: String| ProviderError::Call {
        operation: "query Application Insights".into(),
        resource: id.to_string(),
        message,
        help: "the signed-in identity needs read access (Reader) on the component; `az monitor \
               app-insights query` runs the same query"
            .into(),
    };
    let mut request = Request::new(
        Url::parse(&url).map_err(|e| failed(format!("{url}: {e}")))?,
        Method::Post,
    );
    request.insert_header("content-type", "application/json");
    request.set_body(json!({"query": kusto(query)}).to_string().into_bytes());
    let (status, body) = arm::send_request(&backend.insights, request)
        .await
        .map_err(|e| failed(e.to_string()))?;
    if status >= 400 {
        return Err(failed(format!(
            "answered {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(300)
                .collect::<String>()
        )));
    }
    let answer: Json = serde_json::from_slice(&body)
        .map_err(|e| failed(format!("the answer is not JSON: {e}")))?;
    Ok(LogPage {
        events: events(&answer),
        next: None,
        log_missing: false,
    })
}

/// The query: one function's traces and exceptions in the window, oldest first.
fn kusto(query: &LogQuery) -> String {
    let mut text = format!(
        "union traces, exceptions\n| where timestamp >= datetime({})",
        iso(query.start_ms)
    );
    if let Some(end) = query.end_ms {
        text.push_str(&format!(" and timestamp < datetime({})", iso(end)));
    }
    text.push_str(&format!(
        "\n| where operation_Name =~ '{}'",
        quoted(&query.function)
    ));
    text.push_str(
        "\n| extend line = iif(itemType == 'exception', strcat(type, ': ', outerMessage), message)",
    );
    if let Some(filter) = query.filter.as_deref().filter(|f| !f.is_empty()) {
        text.push_str(&format!("\n| where line contains '{}'", quoted(filter)));
    }
    text.push_str(&format!(
        "\n| project timestamp, line, itemId, cloud_RoleInstance\n| order by timestamp asc\n| take {PAGE_SIZE}"
    ));
    text
}

/// A string inside single quotes in Kusto: backslashes and quotes escaped.
fn quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The rows of the answer's first table, by column name.
fn events(answer: &Json) -> Vec<LogEvent> {
    let Some(table) = answer.pointer("/tables/0") else {
        return Vec::new();
    };
    let columns: Vec<&str> = table["columns"]
        .as_array()
        .map(|list| list.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    let column = |row: &Json, name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .and_then(|index| row.get(index))
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    table["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| LogEvent {
                    id: column(row, "itemId"),
                    timestamp_ms: chrono::DateTime::parse_from_rfc3339(&column(row, "timestamp"))
                        .map(|t| t.timestamp_millis())
                        .unwrap_or_default(),
                    message: column(row, "line"),
                    stream: column(row, "cloud_RoleInstance"),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_names_the_function_and_window_with_quotes_escaped() {
        let query = LogQuery {
            function: "hello".into(),
            start_ms: 0,
            end_ms: Some(60_000),
            filter: Some("it's \\ here".into()),
        };
        let text = kusto(&query);
        assert!(text.contains("timestamp >= datetime(1970-01-01T00:00:00.000Z) and timestamp < datetime(1970-01-01T00:01:00.000Z)"), "{text}");
        assert!(text.contains("operation_Name =~ 'hello'"), "{text}");
        assert!(text.contains(r"line contains 'it\'s \\ here'"), "{text}");
    }

    #[test]
    fn rows_are_read_by_column_name() {
        let answer = json!({"tables": [{"name": "PrimaryResult",
            "columns": [{"name": "timestamp", "type": "datetime"}, {"name": "line", "type": "string"}, {"name": "itemId", "type": "string"}, {"name": "cloud_RoleInstance", "type": "string"}],
            "rows": [["2026-12-03T07:00:00.5Z", "hi", "a1", "instance-1"]]}]});
        assert_eq!(
            events(&answer),
            [LogEvent {
                id: "a1".into(),
                timestamp_ms: 1_796_281_200_500,
                message: "hi".into(),
                stream: "instance-1".into(),
            }]
        );
    }
}
