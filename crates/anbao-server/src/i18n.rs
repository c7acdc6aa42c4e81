//! Labels in Chinese (the default for a Chinese operator) and English. One
//! table; a test checks that every key used in the UI exists here with both
//! languages filled in.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" | "zh-Hans" => Some(Lang::Zh),
            "en" | "en-US" | "en-GB" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
    pub fn html_code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Zh => "中文",
            Lang::En => "English",
        }
    }
}

/// (key, Chinese, English)
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("brand", "安保", "anbao"),
    (
        "footer",
        "anbao · 依据工信部保〔2014〕368号开展网络安全保障",
        "anbao · cybersecurity assurance under MIIT guidance 2014-368",
    ),
    ("nav.main", "主导航", "Main navigation"),
    ("nav.dashboard", "总览", "Dashboard"),
    ("nav.users", "用户", "Users"),
    ("nav.org_units", "组织机构", "Organisation units"),
    ("nav.tokens", "API 令牌", "API tokens"),
    ("nav.audit", "审计日志", "Audit log"),
    ("nav.account", "我的账户", "My account"),
    ("area.govern", "治理", "Govern"),
    ("area.detect", "监测", "Detect"),
    ("area.respond", "响应", "Respond"),
    ("area.protect", "防护", "Protect"),
    (
        "area.govern.desc",
        "资产与责任、定级备案、符合性评测与风险评估",
        "assets and responsibility, grading and filing, compliance and risk assessment",
    ),
    (
        "area.detect.desc",
        "威胁情报、网络侧监测、流量与DDoS监测",
        "threat intelligence, network-side detection, flow and DDoS monitoring",
    ),
    (
        "area.respond.desc",
        "告警、事件分级与报告、预警、预案与演练、指挥调度",
        "alerts, graded incidents and reports, warnings, plans and drills, dispatch",
    ),
    (
        "area.protect.desc",
        "漏洞与补丁、应用检测、个人信息保护",
        "vulnerabilities and patches, app vetting, personal-information protection",
    ),
    ("mod.org_units", "组织机构", "Organisation units"),
    ("mod.users", "用户与角色", "Users and roles"),
    ("mod.audit", "审计日志", "Audit log"),
    ("mod.assets", "资产与责任台账", "Asset and responsibility registry"),
    ("mod.grading", "网络单元定级备案", "Network-unit grading and filing"),
    ("mod.assessments", "符合性评测与风险评估", "Compliance and risk assessments"),
    ("mod.intel", "威胁情报库与共享", "Threat-intelligence store and sharing"),
    ("mod.network", "网络侧木马僵尸与钓鱼监测", "Network-side botnet, trojan and phishing detection"),
    ("mod.flow", "流量监测与DDoS处置", "Flow monitoring and DDoS mitigation"),
    ("mod.incidents", "事件分级与报告", "Incident grading and reporting"),
    ("mod.plans", "应急预案与演练", "Emergency plans and drills"),
    ("mod.dispatch", "应急指挥调度", "Command and dispatch"),
    ("mod.vuln", "漏洞与补丁管理", "Vulnerability and patch management"),
    ("mod.apps", "应用商店与APP检测", "App-store and app vetting"),
    ("mod.pii", "个人信息发现与保护", "Personal-information discovery and protection"),
    ("status.available", "已提供", "available"),
    ("status.planned", "规划中", "planned"),
    ("status.active", "启用", "active"),
    ("status.disabled", "已停用", "disabled"),
    ("status.revoked", "已吊销", "revoked"),
    ("status.locked_until", "锁定至", "locked until"),
    ("status.on", "已开启", "on"),
    ("status.off", "未开启", "off"),
    ("role.admin", "管理员", "Administrator"),
    ("role.analyst", "分析员", "Analyst"),
    ("role.responder", "处置员", "Responder"),
    ("role.auditor", "审计员", "Auditor"),
    ("role.regulator", "监管方", "Regulator"),
    ("kind.group", "集团公司", "Group company"),
    ("kind.province", "省级公司", "Provincial company"),
    ("kind.city", "地市公司", "City company"),
    ("kind.department", "部门", "Department"),
    ("kind.other", "其他", "Other"),
    ("field.username", "用户名", "User name"),
    ("field.password", "密码", "Password"),
    ("field.display_name", "姓名", "Name"),
    ("field.email", "电子邮箱", "E-mail"),
    ("field.phone", "电话", "Phone"),
    ("field.role", "角色", "Role"),
    ("field.org_unit", "所属单位", "Organisation unit"),
    ("field.grants", "监管范围", "Granted units"),
    ("field.status", "状态", "Status"),
    ("field.search", "搜索用户名或姓名", "Search user name or name"),
    ("field.initial_password", "初始密码", "Initial password"),
    ("field.current_password", "当前密码", "Current password"),
    ("field.new_password", "新密码", "New password"),
    ("field.totp", "双因素认证", "Two-factor authentication"),
    ("field.totp_code", "动态验证码", "Authenticator code"),
    ("field.last_login", "最近登录", "Last login"),
    ("field.disabled", "停用账户", "Disable account"),
    ("field.unlock", "解除锁定", "Clear lockout"),
    ("field.name", "名称", "Name"),
    ("field.kind", "类型", "Kind"),
    ("field.code", "编码", "Code"),
    ("field.parent", "上级单位", "Parent unit"),
    ("field.prefix", "前缀", "Prefix"),
    ("field.created", "创建", "Created"),
    ("field.last_used", "最近使用", "Last used"),
    ("field.time", "时间", "Time"),
    ("field.actor", "操作人", "Actor"),
    ("field.channel", "渠道", "Channel"),
    ("field.source_ip", "来源地址", "Source address"),
    ("field.action", "操作", "Action"),
    ("field.object", "对象", "Object"),
    ("field.object_type", "对象类型", "Object type"),
    ("field.object_id", "对象编号", "Object id"),
    ("field.since", "起始日期", "From date"),
    ("field.until", "截止日期", "Until date"),
    ("field.before", "变更前", "Before"),
    ("field.after", "变更后", "After"),
    ("filter.any_role", "全部角色", "Any role"),
    ("action.login", "登录", "Log in"),
    ("action.logout", "退出", "Log out"),
    ("action.verify", "验证", "Verify"),
    ("action.save", "保存", "Save"),
    ("action.create", "创建", "Create"),
    ("action.edit", "编辑", "Edit"),
    ("action.delete", "删除", "Delete"),
    ("action.revoke", "吊销", "Revoke"),
    ("action.filter", "筛选", "Filter"),
    ("action.older", "更早的记录", "Older entries"),
    ("action.enable_totp", "开启双因素认证", "Turn on two-factor authentication"),
    ("action.disable_totp", "关闭双因素认证", "Turn off two-factor authentication"),
    ("confirm.delete", "确定删除？", "Delete this?"),
    ("confirm.revoke", "确定吊销该令牌？", "Revoke this token?"),
    ("saved", "已保存", "Saved"),
    ("deleted", "已删除", "Deleted"),
    ("page.login", "登录", "Log in"),
    ("page.totp", "双因素认证", "Two-factor authentication"),
    ("login.failed", "用户名或密码错误", "Wrong user name or password"),
    (
        "login.locked",
        "登录失败次数过多，账户已锁定，请稍后再试。锁定至",
        "Too many failed logins; the account is locked until",
    ),
    (
        "login.too_many",
        "该地址登录失败次数过多，请稍后再试",
        "Too many failed logins from this address; try again later",
    ),
    ("login.csrf", "登录表单已过期，请重新提交", "The login form expired; please submit it again"),
    ("login.totp_prompt", "请输入身份验证器中的6位动态验证码。", "Enter the 6-digit code from your authenticator app."),
    ("login.totp_wrong", "验证码错误或已使用", "The code is wrong or was already used"),
    ("account.profile", "账户信息", "Profile"),
    ("account.change_password", "修改密码", "Change password"),
    ("account.must_change", "请尽快修改初始密码。", "Please change your initial password."),
    ("account.wrong_password", "当前密码错误", "The current password is wrong"),
    ("account.password_changed", "密码已修改，请重新登录", "Password changed; please log in again"),
    ("account.totp", "双因素认证", "Two-factor authentication"),
    ("account.totp_on", "双因素认证已开启。", "Two-factor authentication is on."),
    ("account.totp_off", "双因素认证未开启。", "Two-factor authentication is off."),
    ("account.totp_secret", "在身份验证器中添加此密钥：", "Add this key to your authenticator app:"),
    ("account.totp_enabled", "双因素认证已开启", "Two-factor authentication is on"),
    ("account.totp_disabled", "双因素认证已关闭", "Two-factor authentication is off"),
    (
        "account.token_principal",
        "当前使用 API 令牌访问，无账户设置。",
        "You are using an API token; there is no account to manage.",
    ),
    ("users.create", "新建用户", "New user"),
    ("users.created", "用户已创建", "User created"),
    ("users.edit", "编辑用户", "Edit user"),
    ("users.reset_password", "重置密码", "Reset password"),
    ("users.password_reset", "密码已重置，用户下次登录须修改", "Password reset; the user must change it at next login"),
    ("org.create", "新建组织机构", "New organisation unit"),
    ("tokens.create", "新建 API 令牌", "New API token"),
    ("tokens.shown_once", "请立即复制此令牌，它只显示这一次：", "Copy this token now; it is shown only once:"),
    ("tokens.revoked", "令牌已吊销", "Token revoked"),
    ("audit.history", "查看变更历史", "Change history"),
    ("audit.export_csv", "导出 CSV", "Export CSV"),
    ("audit.export_json", "导出 JSON", "Export JSON"),
    ("audit.verify", "校验哈希链", "Verify the hash chain"),
    ("audit.intact", "哈希链完整，已校验条目数", "The hash chain is intact; entries checked"),
    ("audit.broken", "哈希链已被破坏：", "The hash chain is broken:"),
    ("dash.active_admins", "启用的管理员", "Active administrators"),
    ("dash.audit_entries", "审计记录", "Audit entries"),
    ("dash.activity", "近14天操作", "Activity, last 14 days"),
    ("dash.activity_caption", "每日审计记录数", "Audit entries per day"),
    ("dash.recent", "最近操作", "Recent changes"),
    ("dash.areas", "功能领域", "Areas"),
    ("mod.domains", "安全域与边界", "Security domains and boundaries"),
    ("mod.accountability", "安全责任体系", "Security accountability"),
    ("nav.assets", "资产台账", "Assets"),
    ("nav.domains", "安全域", "Security domains"),
    ("nav.accountability", "安全责任", "Accountability"),
    ("asset_type.network", "网络", "Network"),
    ("asset_type.business_system", "业务系统", "Business system"),
    ("asset_type.device", "重要设备", "Key device"),
    ("asset_type.website", "网站", "Website"),
    ("asset_type.domain_name", "域名", "Domain name"),
    ("asset_type.dns_service", "域名解析服务", "DNS service"),
    ("asset_type.cloud_tenant", "云租户", "Cloud tenant"),
    ("asset_type.iot_platform", "物联网平台", "IoT platform"),
    ("asset_type.terminal", "办公/运维终端", "Office/maintenance terminal"),
    ("lifecycle.planned", "规划中", "Planned"),
    ("lifecycle.live", "已上线", "Live"),
    ("lifecycle.retired", "已下线", "Retired"),
    ("criticality.low", "低", "Low"),
    ("criticality.medium", "中", "Medium"),
    ("criticality.high", "高", "High"),
    ("criticality.critical", "关键", "Critical"),
    ("zone.core", "核心区", "Core"),
    ("zone.management", "管理区", "Management"),
    ("zone.dmz", "DMZ区", "DMZ"),
    ("zone.office", "办公区", "Office"),
    ("zone.production", "生产区", "Production"),
    ("zone.other", "其他", "Other"),
    ("field.asset_type", "资产类型", "Asset type"),
    ("field.identifier", "地址/标识", "Address / identifier"),
    ("field.external_id", "资产编号", "Asset number"),
    ("field.responsible_department", "责任部门", "Responsible department"),
    ("field.responsible_person", "责任人", "Responsible person"),
    ("field.operator_contact", "运维联系人", "Operator contact"),
    ("field.oncall_phone", "值班电话", "On-call phone"),
    ("field.lifecycle", "状态", "Lifecycle"),
    ("field.criticality", "重要程度", "Criticality"),
    ("field.vendor", "厂商", "Vendor"),
    ("field.product", "产品", "Product"),
    ("field.version", "版本", "Version"),
    ("field.end_of_support", "停止支持日期", "End of support"),
    ("field.zone_kind", "区域类型", "Zone"),
    ("field.description", "说明", "Description"),
    ("field.leader", "分管安全负责人", "Leader in charge of security"),
    ("field.leader_title", "职务", "Title"),
    ("field.security_department", "安全管理部门", "Security department"),
    ("field.staff", "安全人员", "Security staff"),
    (
        "field.staff_lines",
        "安全人员（每行：姓名, 岗位, 证书）",
        "Security staff (one per line: name, post, certificate)",
    ),
    ("filter.any_type", "全部类型", "Any type"),
    ("filter.any_lifecycle", "全部状态", "Any lifecycle"),
    ("action.previous", "上一页", "Previous"),
    ("action.next", "下一页", "Next"),
    ("action.add", "添加", "Add"),
    ("assets.by_type", "各类资产数量", "Assets by type"),
    ("assets.search", "搜索名称、地址、编号或责任人", "Search name, address, number or person"),
    ("assets.total", "资产总数", "Assets found"),
    ("assets.create", "新建资产", "New asset"),
    ("assets.inventory", "软硬件清单", "Software and hardware inventory"),
    ("assets.edit", "编辑资产", "Edit asset"),
    ("domains.diagram", "安全域与边界示意图", "Security domains and boundaries"),
    ("domains.assets", "项资产", "assets"),
    ("domains.boundaries", "网络边界", "Boundaries"),
    ("domains.between", "边界两侧", "Between"),
    ("domains.device", "边界设备", "Boundary device"),
    ("domains.controls", "防护措施", "Controls"),
    ("domains.create", "新建安全域", "New security domain"),
    ("domains.boundary_create", "新建边界", "New boundary"),
    ("domains.side_a", "安全域 A", "Domain A"),
    ("domains.side_b", "安全域 B", "Domain B"),
    ("accountability.missing", "未登记", "not recorded"),
    ("accountability.set", "登记安全责任", "Record accountability"),
    ("mod.deadlines", "定级备案与评测期限", "Filing and assessment deadlines"),
    ("nav.units", "网络单元", "Network units"),
    ("nav.deadlines", "到期事项", "Deadlines"),
    ("unit_status.draft", "草稿", "Draft"),
    ("unit_status.graded", "已定级", "Graded"),
    ("unit_status.reviewed", "已评审", "Reviewed"),
    ("unit_status.filed", "已备案", "Filed"),
    ("obligation.filing", "备案", "Filing"),
    ("obligation.refiling", "变更备案", "Re-filing after change"),
    ("obligation.compliance_assessment", "符合性评测", "Compliance assessment"),
    ("obligation.risk_assessment", "风险评估", "Risk assessment"),
    ("due.overdue", "已逾期", "overdue by"),
    ("due.days", "天", " days"),
    ("due.overdue_items", "逾期事项", "Overdue"),
    ("due.soon_items", "30天内到期", "Due within 30 days"),
    ("due.all_items", "全部待办", "All outstanding"),
    (
        "due.rules",
        "期限依据《通信网络安全防护管理办法》：评审通过后30日内备案；变更后30日内变更备案；三级及以上每年、二级每两年开展符合性评测和风险评估。",
        "Deadlines follow MIIT Order No. 11: filing within 30 days after the review passes; re-filing within 30 days of a change; compliance and risk assessments every year for level 3 and above, every two years for level 2.",
    ),
    ("field.due", "到期日", "Due"),
    ("field.obligation", "事项", "Obligation"),
    ("field.level", "定级级别", "Grade"),
    ("field.mlps_level", "等级保护级别", "MLPS level"),
    ("field.next_due", "下一到期事项", "Next due"),
    ("field.main_function", "主要功能", "Main function"),
    ("field.topology", "网络拓扑", "Topology"),
    ("field.boundary", "网络边界", "Boundary"),
    ("field.key_facilities", "关键设施位置", "Key facility locations"),
    ("field.override_reason", "调整定级理由", "Reason for a different level"),
    ("field.review_passed", "专家评审通过日期", "Expert review passed"),
    ("field.reviewers", "评审专家", "Reviewers"),
    ("field.opinion", "评审意见", "Opinion"),
    ("field.filed", "备案日期", "Filed"),
    ("field.filing_number", "备案编号", "Filing number"),
    ("field.last_compliance_assessment", "最近符合性评测", "Last compliance assessment"),
    ("field.last_risk_assessment", "最近风险评估", "Last risk assessment"),
    ("field.completed_on", "完成日期", "Completed on"),
    ("units.create", "新建网络单元", "New network unit"),
    ("units.edit", "编辑网络单元", "Edit network unit"),
    ("units.review", "专家评审", "Expert review"),
    ("units.filing", "备案", "Filing"),
    ("units.assessment", "登记已完成的评测/评估", "Record a completed assessment"),
    ("units.assets", "单元包含的资产", "Assets in the unit"),
    ("units.filing_form", "备案表", "Filing form"),
    ("units.filing_form_title", "通信网络单元定级备案表", "Network unit grading filing form"),
    ("units.grading_reason", "定级理由", "Grading reasons"),
    ("units.main_equipment", "主要软硬件", "Main hardware and software"),
    (
        "units.signature",
        "单位（盖章）：　　　　　负责人（签字）：　　　　　日期：",
        "Organisation (seal):            Person responsible (signature):            Date:",
    ),
    ("grading.wizard", "定级向导", "Grading wizard"),
    ("grading.propose", "计算建议级别", "Propose a level"),
    ("grading.proposed_level", "建议级别", "Proposed level"),
    ("grading.decided_by", "决定规则", "decided by"),
    ("grading.rules_version", "规则版本", "Rules version"),
    ("grading.accept", "确认定级", "Record this grade"),
    ("grading.recorded", "已记录的定级依据", "Recorded grading"),
    ("dash.deadlines", "定级备案与评测到期事项", "Filing and assessment deadlines"),
    ("mod.requirements", "合规要求总览", "Requirement dashboard"),
    ("nav.requirements", "合规要求总览", "Requirements"),
    ("rag.green", "已满足", "Met"),
    ("rag.amber", "部分满足", "Partly met"),
    ("rag.red", "缺少证据", "No evidence"),
    ("field.requirement", "要求", "Requirement"),
    ("field.evidence", "证据", "Evidence"),
    ("nav.asset_import", "导入资产", "Import assets"),
    ("import.file", "文件（CSV / JSON / nmap XML）", "File (CSV / JSON / nmap XML)"),
    ("import.format", "格式", "Format"),
    ("import.auto", "自动识别", "Detect"),
    ("import.mapping", "列映射（JSON，可选）", "Column mapping (JSON, optional)"),
    ("import.nmap_unit", "所属单位（nmap 导入）", "Organisation unit (nmap imports)"),
    ("import.dry_run", "仅预览，不写入", "Preview only (dry run)"),
    ("import.run", "导入", "Import"),
    ("import.committed", "已导入", "Imported"),
    ("import.preview", "预览：尚未写入", "Preview: nothing written yet"),
    ("import.rejected", "存在错误，未写入任何数据", "Errors found; nothing was written"),
    ("import.created", "新增", "created"),
    ("import.updated", "更新", "updated"),
    ("import.unchanged", "未变", "unchanged"),
    ("import.line", "行", "Line"),
    ("import.problem", "问题", "Problem"),
    ("import.ignored", "未使用的列：", "Columns not used:"),
    ("import.no_file", "请选择文件", "Choose a file"),
    (
        "import.help",
        "支持 UTF-8、UTF-16 和 GBK 编码的 CSV（常见中文表头自动识别）、JSON 数组和 nmap -oX 输出。全部行无误时才写入。",
        "CSV in UTF-8, UTF-16 or GBK (common Chinese headers are recognised), JSON arrays and nmap -oX output. Nothing is written unless every row is valid.",
    ),
    ("import.template", "下载现有资产作为模板", "Download the current assets as a template"),
    ("mod.tasks", "整改任务", "Remediation tasks"),
    ("mod.risk", "风险台账与上线前评估", "Risk register and pre-launch gate"),
    ("nav.tasks", "整改任务", "Remediation tasks"),
    ("nav.assessment", "符合性评测", "Compliance assessment"),
    ("assessment.title", "符合性评测（按要求逐项）", "Compliance assessments (item by item)"),
    ("assessment.start", "开始符合性评测", "Start a compliance assessment"),
    (
        "assessment.started",
        "已创建评测，按本级别要求逐项评价",
        "Assessment started with the requirements of the unit's level",
    ),
    ("assessment.in_progress", "进行中", "in progress"),
    ("assessment.completed", "已完成", "completed"),
    ("assessment.complete", "完成评测并生成整改任务", "Complete and raise remediation tasks"),
    ("assessment.add_evidence", "添加证据", "Add evidence"),
    ("assessment.evidence_below", "在页面下方上传文件或填写链接。", "Upload a file or give a link below the table."),
    ("result.unassessed", "未评价", "Not assessed"),
    ("result.met", "符合", "Met"),
    ("result.partly", "部分符合", "Partly met"),
    ("result.not_met", "不符合", "Not met"),
    ("result.not_applicable", "不适用", "Not applicable"),
    ("field.assessor", "评测人/机构", "Assessor"),
    ("field.result", "结论", "Result"),
    ("field.note", "说明", "Note"),
    ("field.link", "链接", "Link"),
    ("field.task", "任务", "Task"),
    ("field.task_owner", "整改责任人", "Owner"),
    ("task.open", "待整改", "open"),
    ("task.done", "已完成", "done"),
    ("task.close", "标记完成", "Mark done"),
    ("error.forbidden", "您的角色无权执行此操作", "Your role does not allow this"),
    ("error.not_found", "页面不存在", "Page not found"),
    (
        "error.csrf",
        "CSRF 令牌缺失或错误，请刷新页面后重试",
        "CSRF token missing or wrong; reload the page and try again",
    ),
    (
        "error.csrf_header",
        "缺少 CSRF 令牌：请发送 X-CSRF-Token 请求头",
        "CSRF token missing: send the X-CSRF-Token header",
    ),
    ("error.too_large", "提交的内容过大", "The submitted form is too large"),
];

/// The label for `key` in `lang`; the key itself if missing (a test keeps
/// that from happening).
pub fn t(lang: Lang, key: &'static str) -> &'static str {
    match MESSAGES.iter().find(|(k, _, _)| *k == key) {
        Some((_, zh, en)) => match lang {
            Lang::Zh => zh,
            Lang::En => en,
        },
        None => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_both_languages_are_filled() {
        let mut seen = std::collections::HashSet::new();
        for (k, zh, en) in MESSAGES {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!zh.is_empty() && !en.is_empty(), "{k} lacks a translation");
        }
    }

    /// Every `t("…")` key written in the UI sources exists in the table.
    #[test]
    fn every_key_used_in_the_ui_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut missing = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(p) = stack.pop() {
            for entry in std::fs::read_dir(&p).expect("read src") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("read file");
                for piece in text.split("t(\"").skip(1) {
                    let key = piece.split('"').next().unwrap_or_default();
                    // Keys are dotted; other `t("…")` text is not a label.
                    if key.contains('.') && !MESSAGES.iter().any(|(k, _, _)| *k == key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
                for piece in text.split("key: \"").skip(1) {
                    let key = piece.split('"').next().unwrap_or_default();
                    if !MESSAGES.iter().any(|(k, _, _)| *k == key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "labels missing from i18n::MESSAGES: {missing:?}");
    }
}
