"""The audit log's words: what each recorded action and field is called, and the recorded values people read
in words rather than as stored."""
from flask_babel import lazy_gettext as _l

ACTION_LABELS = {"create": _l("新建"), "edit": _l("修改"), "publish": _l("发布"), "unpublish": _l("撤回"),
                 "archive": _l("归档"), "remove": _l("移除"), "end_term": _l("卸任"), "import": _l("导入"),
                 "issue": _l("发卡"), "revoke": _l("作废住户卡"), "pickup": _l("领取"), "retire": _l("停用"),
                 "ballot": _l("投票"), "close": _l("截止计票"), "opinion": _l("发表意见"), "hide_opinion": _l("隐藏意见"),
                 "propose": _l("居民提议"), "answer": _l("答复"), "to_topic": _l("转为议题"),
                 "resolution": _l("决议公告"), "update": _l("落实情况"), "draft": _l("记草稿"),
                 "delete_draft": _l("删除草稿"), "post": _l("入账"), "reverse": _l("冲销"), "submit": _l("提交审核"),
                 "resubmit": _l("重新提交"), "sign": _l("签字"), "sign_publish": _l("签字并公示"),
                 "refuse": _l("退回"), "question": _l("质询"), "budget": _l("预算"),
                 "appoint": _l("任命监督委员"), "snapshot": _l("分批公布票数"), "correct": _l("更正说明"),
                 "notice_sent": _l("会议通知送达居委会"), "attendance": _l("记录出席"), "decide": _l("会议决定"),
                 "minutes": _l("会议纪要"), "minutes_reset": _l("纪要确认作废"), "confirm": _l("确认纪要"),
                 "export_phones": _l("导出未投票住户电话"),
                 "copy_setup": _l("复制示范小区的设置"), "template_create": _l("新建通知模板"),
                 "template_edit": _l("修改通知模板"), "template_delete": _l("删除通知模板"), "reset": _l("练习重置")}
FIELD_LABELS = {"title": _l("标题"), "body": _l("正文"), "category": _l("类别"), "urgent": _l("紧急"),
                "pinned": _l("置顶"), "status": _l("状态"), "starts_at": _l("开始显示"), "ends_at": _l("结束显示"),
                "image_id": _l("配图"), "username": _l("用户名"), "role": _l("职务"), "name": _l("名称"),
                "slug": _l("网址名"), "chair": _l("主任"), "term_start": _l("任期开始"), "term_end": _l("任期结束"),
                "intro": _l("介绍"), "photo_id": _l("照片"), "building": _l("楼栋"), "entrance": _l("单元"),
                "room": _l("室"), "area": _l("面积"), "occupancy": _l("状态"), "owner_key": _l("业主标识"),
                "contact_name": _l("联系人"), "contact_phone": _l("电话"), "note": _l("备注"),
                "added": _l("新增"), "updated": _l("更新"), "cards": _l("住户卡"), "address": _l("地址"),
                "item": _l("发放物品"), "eligibility": _l("发放范围"), "place": _l("位置"),
                "orientation": _l("方向"), "dwell_seconds": _l("每页停留"), "idle_seconds": _l("回到轮播"),
                "night_start": _l("息屏开始"), "night_end": _l("息屏结束"), "retired": _l("停用"),
                "households": _l("住户"), "pickups": _l("领取"), "event_id": _l("发放活动"),
                "household_id": _l("住户"), "collected_at": _l("领取时间"),
                "kind": _l("类型"), "rule": _l("表决规则"), "seats": _l("名额"), "secret": _l("无记名"),
                "visibility": _l("结果公开方式"), "allow_change": _l("允许改票"), "opens_at": _l("投票开始"),
                "closes_at": _l("投票截止"), "options": _l("选项"), "fingerprint": _l("结果指纹"),
                "background": _l("背景说明"), "channel": _l("渠道"), "choices": _l("所选"), "changed": _l("改票"),
                "passed": _l("通过"), "part_households": _l("参与户数"), "electorate": _l("表决名单户数"),
                "reason": _l("理由"), "answer": _l("答复"), "topic_id": _l("议题"), "notice_id": _l("公告"),
                "number": _l("编号"), "occurred_on": _l("日期"), "amount_fen": _l("金额（分）"),
                "description": _l("摘要"), "counterparty": _l("对方"), "counterparty_is_person": _l("对方是个人"),
                "method": _l("方式"), "reverses_id": _l("冲销"), "reverses": _l("冲销"), "posted": _l("已入账"),
                "hash": _l("哈希"), "head_hash": _l("链末端"), "head_number": _l("截至编号"), "round": _l("轮次"),
                "opening_fen": _l("期初（分）"), "income_fen": _l("收入（分）"), "expense_fen": _l("支出（分）"),
                "closing_fen": _l("期末（分）"), "actual_fen": _l("实存（分）"),
                "display_name": _l("姓名"), "via": _l("途径"), "source": _l("依据"),
                "as_of": _l("截至"), "paper": _l("纸质票录入"), "correction": _l("更正说明"),
                "held_at": _l("会议时间"), "agenda": _l("议程"), "notice_sent_on": _l("送达居委会的日期"),
                "members_total": _l("全体委员人数"), "present": _l("出席的委员"), "minutes": _l("会议纪要"),
                "confirmations": _l("已确认人数"), "final": _l("纪要生效"), "decision_notice_id": _l("公告"),
                "item": _l("议程事项"), "rows": _l("条数"), "why": _l("原因"),
                "copied_from": _l("复制自"), "procedure_profile": _l("议事规则"), "ledger_books": _l("账本"),
                "ledger_categories": _l("收支类别"), "notice_templates": _l("通知模板"),
                "proxy_limit": _l("每位受托人最多代理的业主数"), "default_templates": _l("补上的默认通知模板")}


# Recorded values people should read in words: how an account came to be, on whose authority.
VALUE_LABELS = {"via": {"cli": _l("服务器命令行（kiosk user add）")},
                "source": {"platform": _l("街道任命"), "election": _l("选举结果")}}


def value_label(key, value):
    """The words for a recorded value of these fields, else the value itself."""
    return VALUE_LABELS.get(key, {}).get(value, value) if isinstance(value, str) else value


def changed_fields(entry):
    """Return (field, before, after) for each value an audit entry changed."""
    before, after = entry.before or {}, entry.after or {}
    return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)]
