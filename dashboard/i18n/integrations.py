"""Strings of the doors to other systems (issue 17): the webhooks admin page, sources."""

from __future__ import annotations

ENTRIES: dict[str, tuple[str, str]] = {
    "source.city_management": ("数字城管", "Digital city management"),
    "title.webhooks": ("对接推送", "Webhooks"),
    "nav.webhooks": ("对接推送", "Webhooks"),
    "webhooks.title": ("对接系统推送（Webhook）", "Webhooks to other systems"),
    "webhooks.intro": (
        "事件每一步状态变化都会推送给订阅的对接系统（12345、110、数字城管等）；"
        "失败的推送会按退避时间重试，超过次数后暂停，等待管理员重发。",
        "Every step of a case is pushed to the subscribed systems (12345, 110, digital city "
        "management…); a failed push is retried with back-off, and after too many attempts it "
        "waits for an administrator to send it again.",
    ),
    "webhooks.subscriptions": ("订阅", "Subscriptions"),
    "webhooks.deliveries": ("未完成的推送", "Deliveries not yet done"),
    "webhooks.col.name": ("名称", "Name"),
    "webhooks.col.url": ("地址", "Address"),
    "webhooks.col.target": ("订阅内容", "Follows"),
    "webhooks.col.active": ("状态", "State"),
    "webhooks.col.pending": ("待推送", "Pending"),
    "webhooks.col.failed": ("失败", "Failed"),
    "webhooks.col.delivered": ("已送达", "Delivered"),
    "webhooks.col.last_error": ("最近错误", "Last error"),
    "webhooks.col.next": ("下次尝试", "Next attempt"),
    "webhooks.col.id": ("编号", "No."),
    "webhooks.col.case": ("事件", "Case"),
    "webhooks.col.step": ("环节", "Step"),
    "webhooks.col.status": ("推送状态", "Push state"),
    "webhooks.col.attempts": ("尝试次数", "Attempts"),
    "webhooks.col.replay": ("操作", "Action"),
    "webhooks.active": ("启用", "Active"),
    "webhooks.inactive": ("停用", "Off"),
    "webhooks.state.pending": ("待推送", "Pending"),
    "webhooks.state.failed": ("失败", "Failed"),
    "webhooks.state.delivered": ("已送达", "Delivered"),
    "webhooks.target.key": ("密钥 {id} 上报的事件", "Cases sent with key {id}"),
    "webhooks.target.category": ("类别 {id}", "Category {id}"),
    "webhooks.target.area": ("区域 {id}", "Area {id}"),
    "webhooks.replay": ("重新推送", "Send again"),
    "webhooks.replay_all": ("全部失败的重新推送", "Send every failed one again"),
    "webhooks.replayed": ("已重新排队 {id} 条推送。", "{id} deliveries queued again."),
    "webhooks.none": (
        "还没有订阅。管理员用命令行添加：",
        "No subscriptions yet. An administrator adds one with:",
    ),
    "webhooks.empty": ("没有未完成的推送。", "Nothing waiting."),
    "webhooks.add": ("添加订阅", "Add a subscription"),
    "webhooks.add.name": ("名称", "Name"),
    "webhooks.add.url": ("接收地址", "Receiver address"),
    "webhooks.add.key": ("对接密钥名称（该密钥上报的事件）", "Key name (the cases it sent)"),
    "webhooks.add.category": ("或 类别代码", "or category code"),
    "webhooks.add.area": ("或 区域代码", "or area code"),
    "webhooks.add.submit": ("添加", "Add"),
    "webhooks.added": (
        "已添加订阅。签名密钥只显示这一次，请交给对方系统：",
        "Subscription added. Its signing secret is shown this once; give it to the other system:",
    ),
    "webhooks.refused": ("未添加：", "Not added: "),
    "webhooks.refused.no_key": (
        "没有这个名称的对接密钥",
        "there is no integration key with this name",
    ),
    "webhooks.refused.category": ("没有这个类别代码", "there is no such category code"),
    "webhooks.refused.name": ("名称须为 1–60 个字符", "a name of 1–60 characters"),
    "webhooks.refused.nothing": (
        "请填写对接密钥、类别或区域之一",
        "give a key, a category or an area",
    ),
    "webhooks.refused.duplicate": ("已有同名订阅", "there is a subscription with this name"),
    "webhooks.refused.url": (
        "地址过长或含有非法字符",
        "the address is too long or has bad characters",
    ),
    "webhooks.refused.scheme": (
        "地址须以 http:// 或 https:// 开头",
        "the address must be http:// or https://",
    ),
    "webhooks.refused.host": ("地址缺少主机名", "the address has no host"),
    "webhooks.refused.credentials": (
        "地址中不能含用户名或密码",
        "no user or password in the address",
    ),
    "webhooks.refused.port": ("端口号无效", "the port is not valid"),
    "webhooks.refused.private": (
        "不允许推送到内网、本机或链路本地地址",
        "private, loopback and link-local addresses are not allowed",
    ),
    "webhooks.refused.missing": ("没有这个订阅", "there is no such subscription"),
}
