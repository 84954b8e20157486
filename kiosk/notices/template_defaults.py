"""The three notice templates every compound starts with (plain data, no Flask: migration 0021 seeds them too).

They are the compound's content, not interface text: written in Chinese for the residents who read the notice,
and the committee edits them as its own. Blanks to fill are marked 【】."""

DEFAULT_TEMPLATES = (
    ("停水停电通知", "notice", """各位业主、住户：

接【供水公司／供电公司】通知，因【管道维修／线路检修】，本小区【楼栋范围，如 3 栋、5 栋】将于 **【日期】【开始时间】至【结束时间】** 停【水／电】。

- 请提前储水，关好家里的水龙头和电器开关；
- 停电期间电梯停止运行，行动不便的老人请提前安排出行；
- 恢复时间如有推迟，委员会会在公示屏和手机页面上另行通知。

联系人：【姓名】，电话：【电话】

【小区名称】自治管理委员会
【日期】"""),
    ("议事会通知", "notice", """各位业主、住户：

小区自治管理委员会定于 **【日期】（星期【几】）【时间】** 在【地点，如 小区活动室】召开协商议事会，欢迎业主、住户和商户代表参加。

本次议题：

- 【议题一】
- 【议题二】

对议题有意见或建议的，请在【截止日期】前告诉委员会委员，也可以扫公示屏上的二维码在手机上提出。

【小区名称】自治管理委员会
【日期】"""),
    ("公示期提醒", "disclosure", """各位业主、住户：

【公示事项，如 某月公共收益收支明细】已于【开始日期】公示，公示期到【结束日期】止，共【天数】天。

公示内容在大堂公示屏和公告栏上，也可以扫码在手机上查看。对公示内容有疑问的，请在公示期内向监督委员或自治管理委员会提出，委员会在 10 日内答复。

【小区名称】自治管理委员会
【日期】"""),
)
