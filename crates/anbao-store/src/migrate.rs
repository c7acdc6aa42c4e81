//! Versioned migrations, applied in order at start-up in one transaction
//! that first takes a lock: `BEGIN IMMEDIATE` on SQLite (the database write
//! lock), a transaction-scoped advisory lock on PostgreSQL. Two processes
//! starting at once therefore never apply the same migration twice.

use sqlx::{Executor, Row};

use crate::{Backend, Result, Store, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "assets",
        sqlite: include_str!("../migrations/sqlite/0002_assets.sql"),
        postgres: include_str!("../migrations/postgres/0002_assets.sql"),
    },
    Migration {
        version: 3,
        name: "network_units",
        sqlite: include_str!("../migrations/sqlite/0003_network_units.sql"),
        postgres: include_str!("../migrations/postgres/0003_network_units.sql"),
    },
    Migration {
        version: 4,
        name: "assessments",
        sqlite: include_str!("../migrations/sqlite/0004_assessments.sql"),
        postgres: include_str!("../migrations/postgres/0004_assessments.sql"),
    },
    Migration {
        version: 5,
        name: "risks",
        sqlite: include_str!("../migrations/sqlite/0005_risks.sql"),
        postgres: include_str!("../migrations/postgres/0005_risks.sql"),
    },
    Migration {
        version: 6,
        name: "intel",
        sqlite: include_str!("../migrations/sqlite/0006_intel.sql"),
        postgres: include_str!("../migrations/postgres/0006_intel.sql"),
    },
    Migration {
        version: 7,
        name: "taxii",
        sqlite: include_str!("../migrations/sqlite/0007_taxii.sql"),
        postgres: include_str!("../migrations/postgres/0007_taxii.sql"),
    },
    Migration {
        version: 8,
        name: "intel_sources",
        sqlite: include_str!("../migrations/sqlite/0008_intel_sources.sql"),
        postgres: include_str!("../migrations/postgres/0008_intel_sources.sql"),
    },
    Migration {
        version: 9,
        name: "samples",
        sqlite: include_str!("../migrations/sqlite/0009_samples.sql"),
        postgres: include_str!("../migrations/postgres/0009_samples.sql"),
    },
    Migration {
        version: 10,
        name: "alerts",
        sqlite: include_str!("../migrations/sqlite/0010_alerts.sql"),
        postgres: include_str!("../migrations/postgres/0010_alerts.sql"),
    },
    Migration {
        version: 11,
        name: "import_progress",
        sqlite: include_str!("../migrations/sqlite/0011_import_progress.sql"),
        postgres: include_str!("../migrations/postgres/0011_import_progress.sql"),
    },
    Migration {
        version: 12,
        name: "incidents",
        sqlite: include_str!("../migrations/sqlite/0012_incidents.sql"),
        postgres: include_str!("../migrations/postgres/0012_incidents.sql"),
    },
    Migration {
        version: 13,
        name: "alert_triage",
        sqlite: include_str!("../migrations/sqlite/0013_alert_triage.sql"),
        postgres: include_str!("../migrations/postgres/0013_alert_triage.sql"),
    },
    Migration {
        version: 14,
        name: "incident_reports",
        sqlite: include_str!("../migrations/sqlite/0014_incident_reports.sql"),
        postgres: include_str!("../migrations/postgres/0014_incident_reports.sql"),
    },
    Migration {
        version: 15,
        name: "incident_alerts",
        sqlite: include_str!("../migrations/sqlite/0015_incident_alerts.sql"),
        postgres: include_str!("../migrations/postgres/0015_incident_alerts.sql"),
    },
    Migration {
        version: 16,
        name: "incident_tasks",
        sqlite: include_str!("../migrations/sqlite/0016_incident_tasks.sql"),
        postgres: include_str!("../migrations/postgres/0016_incident_tasks.sql"),
    },
    Migration {
        version: 17,
        name: "notifications",
        sqlite: include_str!("../migrations/sqlite/0017_notifications.sql"),
        postgres: include_str!("../migrations/postgres/0017_notifications.sql"),
    },
    Migration {
        version: 18,
        name: "warnings",
        sqlite: include_str!("../migrations/sqlite/0018_warnings.sql"),
        postgres: include_str!("../migrations/postgres/0018_warnings.sql"),
    },
    Migration {
        version: 19,
        name: "plans",
        sqlite: include_str!("../migrations/sqlite/0019_plans.sql"),
        postgres: include_str!("../migrations/postgres/0019_plans.sql"),
    },
    Migration {
        version: 20,
        name: "incident_evidence",
        sqlite: include_str!("../migrations/sqlite/0020_incident_evidence.sql"),
        postgres: include_str!("../migrations/postgres/0020_incident_evidence.sql"),
    },
    Migration {
        version: 21,
        name: "incident_handling",
        sqlite: include_str!("../migrations/sqlite/0021_incident_handling.sql"),
        postgres: include_str!("../migrations/postgres/0021_incident_handling.sql"),
    },
    Migration {
        version: 22,
        name: "respond_gaps",
        sqlite: include_str!("../migrations/sqlite/0022_respond_gaps.sql"),
        postgres: include_str!("../migrations/postgres/0022_respond_gaps.sql"),
    },
    Migration {
        version: 23,
        name: "flow_mitigations",
        sqlite: include_str!("../migrations/sqlite/0023_flow_mitigations.sql"),
        postgres: include_str!("../migrations/postgres/0023_flow_mitigations.sql"),
    },
    Migration {
        version: 24,
        name: "intel_unused_indexes",
        sqlite: include_str!("../migrations/sqlite/0024_intel_unused_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0024_intel_unused_indexes.sql"),
    },
    Migration {
        version: 25,
        name: "incident_leaks",
        sqlite: include_str!("../migrations/sqlite/0025_incident_leaks.sql"),
        postgres: include_str!("../migrations/postgres/0025_incident_leaks.sql"),
    },
    Migration {
        version: 26,
        name: "flow_traffic",
        sqlite: include_str!("../migrations/sqlite/0026_flow_traffic.sql"),
        postgres: include_str!("../migrations/postgres/0026_flow_traffic.sql"),
    },
    Migration {
        version: 27,
        name: "flow_nodes",
        sqlite: include_str!("../migrations/sqlite/0027_flow_nodes.sql"),
        postgres: include_str!("../migrations/postgres/0027_flow_nodes.sql"),
    },
    Migration {
        version: 28,
        name: "intel_provenance_checks",
        sqlite: include_str!("../migrations/sqlite/0028_intel_provenance_checks.sql"),
        postgres: include_str!("../migrations/postgres/0028_intel_provenance_checks.sql"),
    },
    Migration {
        version: 29,
        name: "mitigation_announce_retry",
        sqlite: include_str!("../migrations/sqlite/0029_mitigation_announce_retry.sql"),
        postgres: include_str!("../migrations/postgres/0029_mitigation_announce_retry.sql"),
    },
    Migration {
        version: 30,
        name: "intel_key_collation",
        sqlite: include_str!("../migrations/sqlite/0030_intel_key_collation.sql"),
        postgres: include_str!("../migrations/postgres/0030_intel_key_collation.sql"),
    },
];

/// The versions of every migration this build knows, in order.
pub fn known_versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|m| m.version).collect()
}

/// The newest schema version this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

const ADVISORY_KEY: i64 = 0x616e_6261_6f00; // "anbao\0"

pub(crate) async fn run(store: &Store) -> Result<()> {
    let backend = store.backend();
    let mut conn = store.pool().acquire().await?;
    // Transaction control by statement: sqlx's `begin()` cannot ask SQLite
    // for an immediate (write-locked) transaction.
    let begin = match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    };
    conn.execute(sqlx::raw_sql(begin)).await?;
    // An async block over the owned connection, not a helper taking
    // `&mut AnyConnection`: the latter makes `Store::open` not `Send`.
    let result: Result<()> = async {
        if backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(ADVISORY_KEY).execute(&mut *conn).await?;
        }
        conn.execute(sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations \
             (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        ))
        .await?;
        let current: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
            .fetch_one(&mut *conn)
            .await?
            .try_get("v")?;
        if current > latest_version() {
            return Err(StoreError::SchemaTooNew { found: current, known: latest_version() });
        }
        // Every known migration not yet applied, in table order, rather than
        // only those above the highest applied one: branches developed side
        // by side may leave a gap (12 merged before 11) that a database
        // created in between must still get filled.
        let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get("version"))
            .collect::<std::result::Result<_, _>>()?;
        for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
            let sql = match backend {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            let wrap = |cause| StoreError::Migration { version: m.version, name: m.name, cause };
            conn.execute(sqlx::raw_sql(sql)).await.map_err(wrap)?;
            sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(m.version)
                .bind(m.name)
                .bind(anbao_model::clock::format_ts(time::OffsetDateTime::now_utc()))
                .execute(&mut *conn)
                .await
                .map_err(wrap)?;
            tracing::info!(version = m.version, name = m.name, "applied migration");
        }
        Ok(())
    }
    .await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let finished = conn.execute(sqlx::raw_sql(end)).await;
    result?;
    finished?;
    Ok(())
}

impl Store {
    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
            .fetch_one(self.pool())
            .await?
            .try_get("v")?)
    }
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    /// Versions increase strictly in table order: `latest_version` is the
    /// last entry, and migrations run in table order.
    #[test]
    fn migrations_are_numbered_in_order() {
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
    }
}
