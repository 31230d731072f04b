"""Chinese display labels for the closed lists stored as codes in the database."""

from .deployment import SEVEN_IN_PLACE_DEFAULT

WORKSHOP_STATUS = {"open": "在营", "suspended": "停业", "cancelled": "注销", "revoked": "吊销"}
CLOSED_STATUSES = ("suspended", "cancelled", "revoked")

JURISDICTION_LEVEL = {"city": "市局", "county": "县区局", "station": "所/中队"}

ROLES = {"admin": "县局管理员", "officer": "所/中队执法人员", "viewer": "只读查看"}

INSPECTION_KIND = {
    "routine": "日常检查",
    "random": "双随机检查",
    "special": "专项检查",
    "flying": "飞行检查",
    "complaint": "投诉核查",
}
INSPECTION_RESULT = {"pass": "符合", "basic": "基本符合", "fail": "不符合"}
ITEM_OUTCOME = {"pass": "合格", "fail": "不合格", "na": "不适用"}

SAMPLING_RESULT = {"pass": "合格", "fail": "不合格"}
RETEST_STATUS = {
    "none": "",
    "requested": "复检中",
    "upheld": "复检维持不合格",
    "overturned": "复检合格",
}

TIER_DIRECTION = {
    "initial": "首次定榜",
    "upgrade": "升榜",
    "downgrade": "降榜",
    "reconfirm": "维持",
}
TIER_DECISION_STATUS = {
    "proposed": "待决定",
    "decided": "已决定待发布",
    "published": "已发布",
    "rejected": "已驳回",
}
TIER_REASONS = {
    "initial": "首次评定",
    "inspection": "监督检查结果",
    "sampling": "抽检结果",
    "complaint": "投诉举报查实",
    "premises_change": "擅自变更生产场所",
    "hygiene": "卫生状况差",
    "quality": "产品质量下降",
    "rectified": "整改到位",
    "upgrade_request": "升榜申请",
    "annual_review": "年度复核",
    "legacy_import": "存量导入",
}

TITLE_LEVEL = {"county": "县级", "city": "市级", "province": "省级"}
GRANT_STATUS = {"held": "有效", "revoked": "已撤销"}
REVOCATION_RULES = {
    "late_rectification": "整改逾期未完成",
    "two_failures": "同一年度抽检不合格2次及以上",
    "serious_problem": "存在其他严重问题",
    "three_failures": "同一年度抽检不合格3次及以上",
    "three_years": "连续3年抽检不合格",
    "incident": "发生食品安全事故",
}

# 七承诺: what the workshop promises NOT to do (食品质量安全承诺书).
SEVEN_PLEDGES = (
    "不超范围生产食品",
    "不使用非食品原料生产食品",
    "不使用回收食品作为原料生产食品",
    "不使用过期、腐败变质原料生产食品",
    "不超范围、超限量使用食品添加剂",
    "不掺杂掺假、以假充真、以次充好",
    "不生产假冒伪劣食品",
)
# 七到位: key -> label (the default wording; a deployment may reword it, see
# deployment.seven_in_place, which the public page and API show); stored as {key: bool}.
SEVEN_IN_PLACE = {i.key: i.label for i in SEVEN_IN_PLACE_DEFAULT}

COMPLAINT_KIND = {"complaint": "投诉", "report": "举报"}
COMPLAINT_CATEGORIES = {
    "quality": "产品质量问题",
    "hygiene": "卫生状况差",
    "spoiled": "使用变质、过期原料",
    "additive": "滥用食品添加剂",
    "label": "无标签或标签不实",
    "unlicensed": "无证生产（黑作坊）",
    "fake": "假冒伪劣",
    "illness": "食用后身体不适",
    "fake_poster": "公示牌或二维码造假",
    "other": "其他",
}

# Complaint/report workflow states (transitions are in complaints.py).
# 投诉: new → accepted (mediation) | refused | transferred; accepted → mediated | terminated.
# 举报: new → verifying | transferred; verifying → case_opened | no_case; case_opened → case_closed.
COMPLAINT_STATUS = {
    "new": "待处理",
    "accepted": "已受理（调解中）",
    "refused": "不予受理",
    "mediated": "调解成功",
    "terminated": "终止调解",
    "verifying": "核查中",
    "case_opened": "已立案",
    "no_case": "不予立案",
    "case_closed": "已结案",
    "transferred": "已移送其他部门",
}
OPEN_COMPLAINT_STATUSES = ("new", "accepted", "verifying", "case_opened")
# 不予受理 reasons: a closed list (市场监督管理投诉举报处理暂行办法 第十五条).
REFUSAL_REASONS = {
    "not_our_duty": "不属于市场监督管理部门职责或本行政机关管辖",
    "handled_elsewhere": "法院、仲裁机构、其他行政机关等已受理或者处理",
    "not_consumption": "不是为生活消费需要购买、使用商品或者接受服务",
    "over_three_years": "自知道或者应当知道权益受到侵害之日起超过三年",
    "already_mediated": "同一投诉已经调解并达成协议且已履行",
    "missing_info": "未提供真实身份、具体诉求或者事实依据",
    "other_law": "法律、法规、规章规定不予受理的其他情形",
}
# 终止调解 reasons: a closed list (同上 第二十六条).
TERMINATION_REASONS = {
    "withdrawn": "投诉人撤回投诉",
    "refused_mediation": "投诉人或者被投诉人无正当理由拒绝调解",
    "no_agreement": "双方经调解未能达成调解协议",
    "timeout": "自受理之日起 60 日内未达成调解协议",
    "unreachable": "被投诉人下落不明或者无法联系",
    "handled_elsewhere": "法院、仲裁机构、其他行政机关等已受理或者处理",
}

# --- the plans' action programme (DESIGN.md §2b) ---
CASE_STATUS = {"open": "已立案", "decided": "已作出处罚决定", "dropped": "已撤案"}
CASE_SOURCE = {"report": "举报查实", "inspection": "监督检查"}
COLOUR_STATUS = {"not_started": "未开始", "partial": "部分完成", "done": "已完成"}
MONITORING_RESULT = {"pass": "未发现问题", "fail": "发现问题"}
CULTIVATION_STATUS = {
    "pool": "培育中",
    "applied": "已申请",
    "accepted": "验收通过",
    "rejected": "验收未通过",
    "awarded": "已授牌",
    "withdrawn": "已退出",
}
GROWTH_REGISTER = {"upgrade": "小升规培育台账", "growth": "成长型名录"}
REPORT_KIND = {"three_lists": "三清单（任务、责任、督查）", "monthly_stats": "月度统计表"}

# The audit log in Chinese: every action code audit.record() writes (tests check none is missing).
AUDIT_ACTIONS = {
    "workshop.create": "新建作坊",
    "workshop.edit": "修改作坊",
    "workshop.status": "变更作坊状态",
    "workshop.import_create": "导入新增作坊",
    "workshop.import_update": "导入更新作坊",
    "user.create": "新建账号",
    "user.update": "修改账号",
    "user.reset_password": "重置密码",
    "user.change_password": "修改本人密码",
    "user.locked": "账号锁定",
    "user.activate": "启用账号",
    "user.deactivate": "停用账号",
    "user.totp_enable": "绑定动态验证码",
    "user.totp_reset": "清除动态验证码",
    "user.totp_require": "设置动态验证码要求",
    "inspection.record": "录入监督检查",
    "inspection.rectified": "登记整改完成",
    "rectification.add": "挂账（整改事项）",
    "rectification.strike_off": "销号（整改事项）",
    "sampling.record": "录入抽检结果",
    "sampling.retest_request": "登记复检申请",
    "sampling.retest_decide": "登记复检结论",
    "tier.propose": "提出定榜建议",
    "tier.decide": "批准定榜",
    "tier.reject": "驳回定榜建议",
    "tier.publish": "发布榜级",
    "tier.import": "导入存量榜级",
    "title.create": "新建称号",
    "title.update": "修改称号名称",
    "jurisdiction.update": "修改辖区名称或联系方式",
    "jurisdiction.create": "新增辖区",
    "jurisdiction.merge": "撤并所（中队）",
    "category.create": "新增食品类别",
    "category.update": "修改食品类别",
    "title.grant": "授予称号",
    "title.review": "称号年度复核",
    "title.revoke": "撤销称号",
    "title.propose_revocation": "提出撤销称号建议",
    "title.confirm_revocation": "确认撤销称号",
    "title.dismiss_revocation": "驳回撤销称号建议",
    "title.flag_serious_problem": "登记严重问题",
    "title.flag_incident": "登记食品安全事故",
    "complaint.accept": "受理投诉",
    "complaint.refuse": "不予受理",
    "complaint.mediate": "调解成功",
    "complaint.terminate": "终止调解",
    "complaint.verify": "开始核查举报",
    "complaint.open_case": "立案",
    "complaint.no_case": "不予立案",
    "complaint.close_case": "结案",
    "complaint.transfer": "移送其他部门",
    "complaint.extend": "延长办理期限",
    "complaint.assign": "指派承办人",
    "complaint.note": "添加办理记录",
    "complaint.reply": "答复投诉人",
    "complaint.verified": "认定属实",
    "complaint.unfounded": "认定不属实",
    "complaint.reroute": "改派辖区",
    "complaint.view_reporter": "查看投诉举报人身份",
    "complaint.deadline_recompute": "重新计算办理期限",
    "draw.create": "双随机抽取",
    "draw.publish": "公开双随机结果",
    "poster.issue": "发放公示牌",
    "demo.load": "载入演示数据",
    # the action programme (DESIGN.md §2b)
    "case.open": "立案",
    "case.decide": "作出行政处罚决定",
    "case.drop": "撤案",
    "case.close_unlicensed": "登记取缔",
    "plaque.recover": "登记收回牌匾",
    "colour_code.set": "更新色标化进度",
    "colour_code.inspection": "检查更新色标化进度",
    "colour_code.checked": "核查色标化进度（无变化）",
    "monitoring.record": "登记风险监测结果",
    "cultivation.enter": "纳入培育库",
    "cultivation.apply": "申报示范称号",
    "cultivation.accept": "示范创建验收",
    "cultivation.award": "授牌",
    "cultivation.withdraw": "退出培育",
    "notice.issue": "下达整改通知书",
    "growth.add": "登记成长培育名录",
    "growth.advance": "推进小升规阶段",
    "growth.close": "移出成长型名录",
    "report.submit": "登记报表报送",
    "demo.load_programme": "载入行动计划演示数据",
}
AUDIT_ENTITIES = {
    "workshop": "作坊",
    "user": "账号",
    "inspection": "监督检查",
    "rectification_item": "整改事项",
    "sampling": "抽检",
    "tier_decision": "定榜",
    "title": "称号",
    "title_grant": "称号授予",
    "revocation_proposal": "撤销称号建议",
    "complaint": "投诉举报",
    "random_draw": "双随机抽取",
    "poster": "公示牌",
    "database": "数据库",
}
