//! Roles and permissions. The one table that says which role may do what;
//! the server checks every route against it (requirement S1, R5.3).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A role held by a user account or an API token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages users, roles, organisation units, tokens and settings.
    Admin,
    /// Works with intelligence, detections and assessments.
    Analyst,
    /// Handles alerts and incidents: triages detections, notifies infected
    /// subscribers and records the disposal.
    Responder,
    /// Reads everything in scope plus the audit log; changes nothing.
    Auditor,
    /// The communications regulator: read-only, across the units it is granted.
    Regulator,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Analyst, Role::Responder, Role::Auditor, Role::Regulator];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Responder => "responder",
            Role::Auditor => "auditor",
            Role::Regulator => "regulator",
        }
    }

    /// Whether this role holds `permission`. This match is the whole
    /// authorisation policy; adding a permission forces a decision per role.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            ReadDirectory | ReadGovern | ReadIntel => true,
            ManageUsers | ManageOrgUnits | ManageTokens => self == Role::Admin,
            ManageGovern | ManageIntel | DownloadSamples => matches!(self, Role::Admin | Role::Analyst),
            ReadAudit => matches!(self, Role::Admin | Role::Auditor),
            // Every role reads detections like it reads intel: the auditor
            // checks their handling and the regulator supervises the
            // operator's monitoring and disposal of infections.
            ReadAlerts => true,
            // Who was infected is personal information the regulator does
            // not need to supervise the handling: it sees networks (/24, /48).
            ReadSubscribers => self != Role::Regulator,
            TriageAlerts => matches!(self, Role::Admin | Role::Analyst | Role::Responder),
            // Incidents like alerts: the auditor checks their handling, the
            // regulator supervises grading and reporting.
            ReadIncidents => true,
            ManageIncidents => matches!(self, Role::Admin | Role::Analyst | Role::Responder),
            // Reports other operators sent in: the collector's administrator
            // and the regulator it collects for.
            ReadReceivedReports => matches!(self, Role::Admin | Role::Regulator),
            ManageReportSenders => self == Role::Admin,
            ManageNotifications => self == Role::Admin,
        }
    }

    /// Roles that never change data, whatever permission table says.
    pub fn is_read_only(self) -> bool {
        matches!(self, Role::Auditor | Role::Regulator)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?}; expected one of admin, analyst, responder, auditor, regulator")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Something a route needs beyond being logged in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See users and organisation units within one's scope.
    ReadDirectory,
    /// Create, change and disable user accounts.
    ManageUsers,
    /// Create, rename, move and delete organisation units.
    ManageOrgUnits,
    /// Create and revoke API tokens.
    ManageTokens,
    /// Read, filter, export and verify the audit log.
    ReadAudit,
    /// See the governance records (assets, domains, accountability, grading,
    /// assessments) within one's scope.
    ReadGovern,
    /// Change the governance records.
    ManageGovern,
    /// Search and look up threat-intelligence indicators, see imports,
    /// allowlists and the sample library's metadata.
    ReadIntel,
    /// Import, edit and delete indicators, allowlists, samples and TAXII
    /// collections.
    ManageIntel,
    /// Download malware samples (live malicious files, even if zipped).
    DownloadSamples,
    /// See detection alerts with their evidence, the infected subscribers
    /// and the detection charts. Every role holds it.
    ReadAlerts,
    /// See subscribers' (victims') full addresses in alerts; without it they
    /// show as their /24 or /48 network. Every role but the regulator.
    ReadSubscribers,
    /// Set an alert's status and record what was done about it (subscriber
    /// notified, blocklisted, RPZ, sinkholed, escalated, notes): admin,
    /// analyst, responder.
    TriageAlerts,
    /// See incidents, their grading, reporting deadlines and timelines, and
    /// grade a set of facts without recording anything. Every role holds it.
    ReadIncidents,
    /// Open incidents, change their facts and status, override the level
    /// (with a reason) and add timeline entries: admin, analyst, responder.
    ManageIncidents,
    /// See the incident reports received from other operators' instances:
    /// admin and regulator.
    ReadReceivedReports,
    /// Register the senders (name and public key) whose signed reports are
    /// accepted: admin.
    ManageReportSenders,
    /// Configure notification channels (with their secrets) and rules, and
    /// read every notification sent: admin.
    ManageNotifications,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn read_only_roles_hold_no_management_permission() {
        for role in Role::ALL.into_iter().filter(|r| r.is_read_only()) {
            for p in [
                Permission::ManageUsers,
                Permission::ManageOrgUnits,
                Permission::ManageTokens,
                Permission::ManageGovern,
                Permission::ManageIntel,
                Permission::DownloadSamples,
                Permission::TriageAlerts,
                Permission::ManageIncidents,
                Permission::ManageReportSenders,
                Permission::ManageNotifications,
            ] {
                assert!(!role.allows(p), "{role} must not hold {p:?}");
            }
        }
    }

    #[test]
    fn only_admin_and_auditor_read_the_audit_log() {
        let readers: Vec<Role> = Role::ALL.into_iter().filter(|r| r.allows(Permission::ReadAudit)).collect();
        assert_eq!(readers, vec![Role::Admin, Role::Auditor]);
    }

    #[test]
    fn every_role_reads_alerts_and_the_working_roles_triage_them() {
        assert!(Role::ALL.into_iter().all(|r| r.allows(Permission::ReadAlerts)));
        let triagers: Vec<Role> = Role::ALL.into_iter().filter(|r| r.allows(Permission::TriageAlerts)).collect();
        assert_eq!(triagers, vec![Role::Admin, Role::Analyst, Role::Responder]);
    }

    #[test]
    fn every_role_reads_incidents_and_the_working_roles_manage_them() {
        assert!(Role::ALL.into_iter().all(|r| r.allows(Permission::ReadIncidents)));
        let managers: Vec<Role> = Role::ALL.into_iter().filter(|r| r.allows(Permission::ManageIncidents)).collect();
        assert_eq!(managers, vec![Role::Admin, Role::Analyst, Role::Responder]);
    }

    #[test]
    fn received_reports_are_for_the_collector_admin_and_the_regulator() {
        let readers: Vec<Role> = Role::ALL.into_iter().filter(|r| r.allows(Permission::ReadReceivedReports)).collect();
        assert_eq!(readers, vec![Role::Admin, Role::Regulator]);
        let managers: Vec<Role> = Role::ALL.into_iter().filter(|r| r.allows(Permission::ManageReportSenders)).collect();
        assert_eq!(managers, vec![Role::Admin]);
    }
}
