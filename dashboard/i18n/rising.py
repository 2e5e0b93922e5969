"""Rising problems, campaigns and rankings (issue 13, the leader's pages)."""

from __future__ import annotations

ENTRIES: dict[str, tuple[str, str]] = {
    "rising.sentence.rise": (
        "{place}：近7天{category}上报比常态高 {pct} %"
        "（{observed} 件，常态约 {expected} 件）{source}。",
        "{place}: {category} reports in the last 7 days are {pct} % above normal "
        "({observed}; normally about {expected}){source}.",
    ),
    "rising.sentence.fall": (
        "{place}：专项整治后，近7天{category}上报比常态低 {pct} %"
        "（{observed} 件，常态约 {expected} 件）{source}。",
        "{place}: after the campaign, {category} reports in the last 7 days are {pct} % below "
        "normal ({observed}; normally about {expected}){source}.",
    ),
    "rising.from_one": ("，主要来自{a}", ", mostly from {a}"),
    "rising.from_two": ("，主要来自{a}、{b}", ", mostly from {a} and {b}"),
    "rising.unknown_category": ("未分类", "Uncategorised"),
}

ENTRIES.update(
    {
        "title.rising": ("问题苗头", "Rising problems"),
        "title.campaigns": ("专项整治", "Campaigns"),
        "title.rankings": ("考核排名", "Rankings"),
        "rising.heading": (
            "问题苗头：近7天比常态明显升高的类别",
            "Rising problems: the last 7 days against normal",
        ),
        "rising.window": ("统计窗口：{a} 至 {b}（含）", "Window: {a} to {b} (inclusive)"),
        "rising.none": (
            "近7天没有显著升高的问题。",
            "Nothing rose significantly in the last 7 days.",
        ),
        "rising.falls": ("专项整治后的明显下降", "Falls after a campaign"),
        "rising.no_falls": ("没有显著下降。", "No significant fall."),
        "rising.method": (
            "方法：每个大类×乡镇（及件数足够的村）与自身历史常态比较——常态取往年同期"
            "（春节周对春节周，节假日周对节假日周）或近8周，准泊松回归并剔除往期暴发；"
            "负二项检验，Benjamini–Hochberg 控制错误发现率 q = {q}。本次检验 {n} 个序列。",
            "Method: each major category × town (and village where counts allow) against its own "
            "normal — the same weeks of past years (festival week against festival weeks, holiday "
            "weeks against holiday weeks) or the last 8 weeks; quasi-Poisson regression with past "
            "outbreaks down-weighted; negative-binomial test, Benjamini–Hochberg false-discovery "
            "rate q = {q}. {n} series tested.",
        ),
        "rising.col.what": ("问题", "Finding"),
        "rising.col.observed": ("近7天", "Last 7 days"),
        "rising.col.expected": ("常态", "Normal"),
        "rising.col.p": ("p 值", "p-value"),
        "campaigns.heading": ("专项整治", "Campaigns"),
        "campaigns.list": ("已登记的专项整治", "Recorded campaigns"),
        "campaigns.none": ("尚未登记专项整治。", "No campaign recorded yet."),
        "campaigns.form": ("登记专项整治", "Record a campaign"),
        "campaigns.name": ("名称", "Name"),
        "campaigns.categories": ("类别", "Categories"),
        "campaigns.area": ("区域", "Area"),
        "campaigns.start": ("开始日期", "Start"),
        "campaigns.end": ("结束日期", "End"),
        "campaigns.note": ("备注", "Note"),
        "campaigns.submit": ("登记", "Record"),
        "campaigns.saved": ("已登记：{name}", "Recorded: {name}"),
        "campaigns.refused": ("未登记：{m}", "Not recorded: {m}"),
        "campaigns.not_allowed": (
            "您的角色不能登记专项整治。",
            "Your role may not record campaigns.",
        ),
        "campaigns.err.bad_name": ("名称须为 1–60 个字符", "name: 1 to 60 characters"),
        "campaigns.err.bad_note": ("备注最多 500 个字符", "note: at most 500 characters"),
        "campaigns.err.bad_categories": ("请选择 1–10 个类别", "choose 1 to 10 categories"),
        "campaigns.err.unknown_category": ("类别不存在", "unknown category"),
        "campaigns.err.bad_area": ("区域不在您的范围内", "the area is outside yours"),
        "campaigns.err.bad_dates": (
            "日期不合理（结束早于开始、超过一年，或过远）",
            "dates: end before start, longer than a year, or too far from today",
        ),
        "campaigns.err.bad_date": ("请填写日期", "enter the dates"),
        "campaigns.err.control_character": ("含有不允许的控制字符", "contains a control character"),
        "campaigns.col.name": ("名称", "Name"),
        "campaigns.col.period": ("时间", "Period"),
        "campaigns.col.area": ("区域", "Area"),
        "campaigns.col.categories": ("类别", "Categories"),
        "campaigns.effect": ("整治效果：{name}", "Effect: {name}"),
        "campaigns.pick": ("查看效果", "Show effect"),
        "campaigns.series.treated": ("整治区域上报数（周）", "Campaign area, reports per week"),
        "campaigns.series.expected": ("按对照推算的预期", "Expected from the control"),
        "campaigns.band": ("整治期间", "Campaign"),
        "campaigns.control.other_towns": (
            "对照：同类问题在未整治的其他区域",
            "Control: the same categories where no campaign ran",
        ),
        "campaigns.control.other_categories": (
            "对照：同一区域的其他类别",
            "Control: other categories in the same area",
        ),
        "campaigns.statement": (
            "{period}：比按对照推算的预期{dir} {pct} %（95 % 区间 {low} % 至 {high} %）；"
            "整治区域 {tb} → {tp} 件，对照 {cb} → {cp} 件（各 {wb} / {wp} 周）。{sig}",
            "{period}: {pct} % {dir} than expected from the control (95 % interval {low} % to "
            "{high} %); campaign area {tb} → {tp}, control {cb} → {cp} ({wb} / {wp} weeks). {sig}",
        ),
        "campaigns.period.during": ("整治期间", "During"),
        "campaigns.period.after": ("整治结束后", "After"),
        "campaigns.dir.less": ("少", "fewer"),
        "campaigns.dir.more": ("多", "more"),
        "campaigns.sig.yes": ("区间不含 0：效果显著。", "The interval excludes 0: a clear effect."),
        "campaigns.sig.no": (
            "区间含 0：尚不能确定有效果。",
            "The interval includes 0: no clear effect yet.",
        ),
        "campaigns.no_estimate": (
            "{period}：数据不足，无法估计。",
            "{period}: not enough data to estimate.",
        ),
        "rankings.heading": ("考核排名（{a} 至 {b}）", "Rankings ({a} to {b})"),
        "rankings.departments": ("部门排名", "Departments"),
        "rankings.towns": ("乡镇排名", "Towns"),
        "rankings.workers": ("网格员排名", "Grid workers"),
        "rankings.col.rank": ("名次", "Rank"),
        "rankings.col.name": ("名称", "Name"),
        "rankings.col.score": ("综合得分", "Score"),
        "rankings.col.grade": ("等级", "Grade"),
        "rankings.col.closure": ("结案率", "Closure rate"),
        "rankings.col.on_time": ("按期处置率", "On-time handling"),
        "rankings.col.rework": ("返工率", "Rework rate"),
        "rankings.col.dispatch": ("准确派遣率", "Dispatch accuracy"),
        "rankings.col.reported": ("上报数", "Reports"),
        "rankings.col.valid": ("有效上报率", "Valid reports"),
        "rankings.col.verify": ("按期核实率", "On-time verify"),
        "rankings.col.check": ("按期核查率", "On-time check"),
        "rankings.col.checks": ("核实核查次数", "Verifications and checks"),
        "rankings.col.missed": ("漏报率", "Missed-report rate"),
        "rankings.col.distance": ("巡查里程", "Patrol distance"),
        "rankings.col.patrol": ("巡查时长", "Time on patrol"),
        "rankings.col.inside": ("网格内时长占比", "Inside own grid"),
        "rankings.col.coverage": ("住户覆盖率", "Household coverage"),
        "rankings.hint.distance": (
            "巡查里程 = 各巡查日可信定位点间距离之和（不含超过静默时限的间隔）",
            "Patrol distance = sum over the patrol days of the distances between trusted fixes "
            "(silent gaps excluded)",
        ),
        "rankings.hint.patrol": (
            "巡查时长 = 各巡查日相邻可信定位点间隔之和（不含静默间隔）",
            "Time on patrol = sum over the patrol days of the intervals between trusted fixes "
            "(silent gaps excluded)",
        ),
        "rankings.hint.inside": (
            "网格内时长占比 = 在本人网格内的巡查时长 / 巡查时长",
            "Inside own grid = time on patrol inside the own grid / time on patrol",
        ),
        "rankings.hint.coverage": (
            "住户覆盖率 = 各巡查日经过的住户数之和 / (网格住户数 × 巡查日数)",
            "Household coverage = households passed, summed over the patrol days / (the grid's "
            "households × patrol days)",
        ),
        "rankings.patrol_counts": (
            "{d} 个巡查日，{f} 个定位点（其中 {x} 个被过滤）",
            "patrol days: {d}, fixes: {f} ({x} of them filtered)",
        ),
        "rankings.figure_of": ("{n} = {v}（{c}）", "{n} = {v} ({c})"),
        "rankings.km": ("{v} 公里", "{v} km"),
        "rankings.hours": ("{v} 小时", "{v} h"),
        "rankings.households": ("{v} 户次", "{v} household-days"),
        "rankings.hours_of": ("{a} 小时 / {b} 小时", "{a} h / {b} h"),
        "rankings.households_of": ("{a} 户次 / {b} 户次", "{a} / {b} household-days"),
        "rankings.formula_patrol": (
            "巡查（取自轨迹，按本地自然日逐日统计后相加）：巡查里程、巡查时长只计相邻可信定位点"
            "间不超过 {s} 分钟的间隔；网格内时长占比 = 在本人网格内的巡查时长 / 巡查时长；"
            "住户覆盖率 = 各巡查日经过（{r} 米内）的住户数之和 / (网格住户数 × 巡查日数)；"
            "巡查日 = 至少有一个可信定位点的日子。",
            "Patrol (from the tracks, each local day summed): distance and time on patrol count "
            "only intervals of at most {s} minutes between trusted fixes; inside own grid = time "
            "on patrol inside the own grid / time on patrol; household coverage = households "
            "passed (within {r} m) summed over the patrol days / (the grid's households × patrol "
            "days); a patrol day has at least one trusted fix.",
        ),
        "rankings.hint.valid": (
            "有效上报率 = (已立案 + 有理由作废) / 本人上报数",
            "Valid reports = (registered + voided with a reason) / own reports",
        ),
        "rankings.hint.verify": (
            "按期核实率 = 时限内完成的核实 / 应核实数",
            "On-time verify = verifications done within the limit / verifications due",
        ),
        "rankings.hint.check": (
            "按期核查率 = 时限内完成的核查 / 应核查数",
            "On-time check = checks done within the limit / checks due",
        ),
        "rankings.hint.missed": (
            "漏报率 = 网格内公众上报（已立案）/ 本人立案上报数",
            "Missed-report rate = registered public reports in the grid / own registered reports",
        ),
        "rankings.formula": (
            "综合得分 = 件量分 + 结案率 × {c} + 按期处置率 × {o} + (100 − 返工率) × {r}；"
            "A ≥ 90，B ≥ 75，C ≥ 60，D ≥ 40，其余 E。每个比率后括号内为分子 / 分母。",
            "Score = volume points + closure rate × {c} + on-time handling × {o} + (100 − rework "
            "rate) × {r}; A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, else E. Each rate shows numerator / "
            "denominator.",
        ),
        "rankings.formula_workers": (
            "网格员：有效上报率 = (已立案 + 有理由作废) / 本人上报数；"
            "按期核实率 = {v}内完成的核实 / 应核实数，按期核查率 = {c}内完成的核查 / 应核查数"
            "（时限自派发核实、部门报处置完毕起按工作时间计算；应核实、应核查数 = 本期完成的 + "
            "截止时仍未完成且已超时的，后者计入本网格每位网格员）；"
            "漏报率 = 网格内公众上报（已立案）/ 本人立案上报数。",
            "Grid workers: valid reports = (registered + voided with a reason) / own reports; "
            "on-time verify = verifications done within {v} / verifications due, on-time check = "
            "checks done within {c} / checks due (limits in working time from the request to "
            "verify or the department's report; due = done in the period + still waiting and "
            "overdue at its end, the latter counted for each worker of the grid); missed-report "
            "rate = registered public reports in the grid / own registered reports.",
        ),
        "rankings.none": ("本期无数据。", "No data in this period."),
        "audit.action.campaign_created": ("登记专项整治", "Campaign recorded"),
        "audit.action.campaign_updated": ("修改专项整治", "Campaign changed"),
        "audit.action.campaign_deleted": ("删除专项整治", "Campaign deleted"),
        "audit.target.campaign": ("专项整治 {id}", "Campaign {id}"),
        "audit.kind.campaign": ("专项整治", "Campaigns"),
        "briefing.rising_title": ("上升的问题", "Rising problems"),
        "briefing.no_rises": (
            "本月末检验 {n} 个类别×乡镇序列，未发现显著上升。",
            "{n} category × town series tested at the month's end: no significant rise.",
        ),
        "briefing.campaigns_title": ("专项整治成效", "Campaign effects"),
        "briefing.campaign_line": (
            "{name}：整治期间上报较对照变化 {change:+.0f} %"
            "（95 % 区间 {low:+.0f} % 至 {high:+.0f} %）。",
            "{name}: reports changed {change:+.0f} % against the control during the campaign "
            "(95 % interval {low:+.0f} % to {high:+.0f} %).",
        ),
        "briefing.campaign_unmeasured": (
            "{name}：数据不足，尚无法估计成效。",
            "{name}: not enough data to estimate its effect yet.",
        ),
    }
)
