"""Word pools of the demo data. Every company and person is fictitious; e-mail addresses use
the reserved ``example.com`` domain so no demo message can reach a real mailbox."""

from __future__ import annotations

# (city, region, weight) — the demo's sales teams sit in 华东 and 华南, so most customers do.
CITIES: tuple[tuple[str, str, int], ...] = (
    ("上海", "华东", 14), ("杭州", "华东", 8), ("苏州", "华东", 7), ("南京", "华东", 6),
    ("宁波", "华东", 5), ("无锡", "华东", 4), ("合肥", "华东", 3), ("厦门", "华东", 3),
    ("福州", "华东", 2), ("青岛", "华东", 3), ("济南", "华东", 2),
    ("深圳", "华南", 12), ("广州", "华南", 10), ("东莞", "华南", 6), ("佛山", "华南", 5),
    ("珠海", "华南", 2), ("南宁", "华南", 2), ("海口", "华南", 1),
    ("北京", "华北", 5), ("天津", "华北", 3), ("石家庄", "华北", 1), ("太原", "华北", 1),
    ("武汉", "华中", 3), ("长沙", "华中", 2), ("郑州", "华中", 2), ("南昌", "华中", 1),
    ("成都", "西南", 3), ("重庆", "西南", 3), ("昆明", "西南", 1), ("贵阳", "西南", 1),
    ("西安", "西北", 2), ("兰州", "西北", 1),
    ("沈阳", "东北", 1), ("大连", "东北", 2), ("哈尔滨", "东北", 1), ("长春", "东北", 1),
)
MUNICIPALITIES = frozenset({"上海", "北京", "天津", "重庆"})

# 字号 (trade names) with the pinyin used for e-mail domains and websites
BRANDS: tuple[tuple[str, str], ...] = (
    ("瑞祥", "ruixiang"), ("鼎盛", "dingsheng"), ("鸿达", "hongda"), ("宏远", "hongyuan"),
    ("聚源", "juyuan"), ("德润", "derun"), ("安捷", "anjie"), ("博瑞", "borui"),
    ("启航", "qihang"), ("精诚", "jingcheng"), ("蓝海", "lanhai"), ("华信", "huaxin"),
    ("盛达", "shengda"), ("远航", "yuanhang"), ("金桥", "jinqiao"), ("新丰", "xinfeng"),
    ("鼎泰", "dingtai"), ("嘉禾", "jiahe"), ("瑞丰", "ruifeng"), ("天禾", "tianhe"),
    ("凯达", "kaida"), ("万通", "wantong"), ("永信", "yongxin"), ("博远", "boyuan"),
    ("汇通", "huitong"), ("锦程", "jincheng"), ("明德", "mingde"), ("诚泰", "chengtai"),
    ("富鑫", "fuxin"), ("恒通", "hengtong"), ("立诚", "licheng"), ("众合", "zhonghe"),
    ("同创", "tongchuang"), ("海纳", "haina"), ("禾丰", "hefeng"), ("沃德", "wode"),
    ("卓远", "zhuoyuan"), ("优联", "youlian"), ("星辰", "xingchen"), ("云帆", "yunfan"),
    ("中研", "zhongyan"), ("恒信", "hengxin"), ("利达", "lida"), ("长兴", "changxing"),
    ("正和", "zhenghe"), ("佳美", "jiamei"), ("金石", "jinshi"), ("睿达", "ruida"),
    ("泰和", "taihe"), ("东升", "dongsheng"), ("银河", "yinhe"), ("九州", "jiuzhou"),
    ("弘毅", "hongyi"), ("润泽", "runze"), ("思源", "siyuan"), ("国瑞", "guorui"),
)

# GB/T 4754 section → (weight, 行业用语 with English for the few foreign-named companies)
INDUSTRY_WORDS: dict[str, tuple[int, tuple[str, ...], tuple[str, ...]]] = {
    "A": (2, ("农业科技", "生态农业", "种业", "水产养殖"), ("Agritech", "Farms")),
    "C": (24, ("精密机械", "机电设备", "新材料", "食品", "纺织", "汽车零部件", "塑胶制品",
               "医疗器械", "包装材料", "光电科技", "家具制造", "化工", "电子元件", "模具"),
          ("Precision Parts", "Machinery", "Electronics", "Packaging")),
    "D": (2, ("新能源", "燃气", "热力"), ("Energy",)),
    "E": (6, ("建设工程", "建筑装饰工程", "市政工程", "机电安装工程"), ("Construction",)),
    "F": (14, ("商贸", "贸易", "供应链管理", "电子商务", "医药连锁", "五金机电"),
          ("Trading", "Commerce")),
    "G": (7, ("物流", "国际货运代理", "仓储服务", "快运"), ("Logistics", "Freight")),
    "H": (3, ("餐饮管理", "酒店管理"), ("Hospitality",)),
    "I": (14, ("信息技术", "软件", "网络科技", "数据科技", "智能科技", "云计算"),
          ("Software", "Technologies", "Data Systems")),
    "K": (3, ("置业", "物业服务", "房地产开发"), ("Properties",)),
    "L": (8, ("企业管理咨询", "广告", "人力资源", "会展服务", "知识产权代理"),
          ("Consulting", "Events")),
    "M": (7, ("检测技术", "生物科技", "工程设计", "环保科技"), ("Biotech", "Testing Services")),
    "N": (2, ("环境工程", "园林绿化"), ("Environmental",)),
    "O": (2, ("家政服务", "汽车维修"), ("Services",)),
    "P": (2, ("教育科技", "职业培训"), ("Education",)),
    "Q": (2, ("健康管理", "养老服务"), ("Healthcare",)),
    "R": (2, ("文化传媒", "影视传媒", "体育发展"), ("Media",)),
}

# overseas / Hong Kong customers (bilingual demo): English name parts
EN_PREFIXES = ("Pacific", "Harbour", "Nordic", "Maple", "Summit", "Blue Ridge", "Silverline",
               "Crescent", "Evergreen", "Northstar", "Golden Gate", "Lakeside")
EN_SUFFIXES = (("Ltd.", 4), ("Inc.", 2), ("GmbH", 2), ("Pte. Ltd.", 2), ("Co., Ltd.", 2))
OVERSEAS = (("香港", "港澳台", 3), ("Singapore", "海外", 2), ("Munich", "海外", 1),
            ("Toronto", "海外", 1), ("Sydney", "海外", 1))

ROADS = ("人民路", "解放路", "中山路", "建设路", "科技园路", "创业大道", "滨江大道", "长江路",
         "黄河路", "工业园路", "高新大道", "学府路", "环城东路", "新华路", "金融街")

# 百家姓 (surname, pinyin, weight) and given-name characters (char, pinyin)
SURNAMES: tuple[tuple[str, str, int], ...] = (
    ("王", "wang", 10), ("李", "li", 10), ("张", "zhang", 9), ("刘", "liu", 7), ("陈", "chen", 7),
    ("杨", "yang", 5), ("黄", "huang", 4), ("赵", "zhao", 4), ("吴", "wu", 4), ("周", "zhou", 4),
    ("徐", "xu", 3), ("孙", "sun", 3), ("马", "ma", 3), ("朱", "zhu", 3), ("胡", "hu", 3),
    ("郭", "guo", 3), ("何", "he", 3), ("林", "lin", 3), ("罗", "luo", 2), ("高", "gao", 2),
    ("郑", "zheng", 2), ("梁", "liang", 2), ("谢", "xie", 2), ("宋", "song", 2), ("唐", "tang", 2),
    ("许", "xu", 2), ("韩", "han", 2), ("冯", "feng", 2), ("邓", "deng", 2), ("曹", "cao", 2),
    ("彭", "peng", 1), ("曾", "zeng", 1), ("肖", "xiao", 1), ("田", "tian", 1), ("董", "dong", 1),
    ("潘", "pan", 1), ("袁", "yuan", 1), ("蔡", "cai", 1), ("蒋", "jiang", 1), ("余", "yu", 1),
    ("叶", "ye", 1), ("程", "cheng", 1), ("魏", "wei", 1), ("苏", "su", 1), ("丁", "ding", 1),
    ("沈", "shen", 1), ("任", "ren", 1), ("姚", "yao", 1), ("欧阳", "ouyang", 1),
)
GIVEN: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("英", "ying"), ("华", "hua"), ("建", "jian"),
    ("国", "guo"), ("文", "wen"), ("辉", "hui"), ("鹏", "peng"), ("宇", "yu"), ("浩", "hao"),
    ("婷", "ting"), ("雪", "xue"), ("琳", "lin"), ("晨", "chen"), ("欣", "xin"), ("怡", "yi"),
    ("博", "bo"), ("思", "si"), ("佳", "jia"), ("志", "zhi"), ("海", "hai"), ("俊", "jun"),
    ("颖", "ying"), ("慧", "hui"), ("峰", "feng"), ("凯", "kai"), ("倩", "qian"), ("红", "hong"),
)
EN_GIVEN = ("David", "Emma", "Michael", "Sophie", "Daniel", "Olivia", "James", "Grace", "Lucas",
            "Hannah", "Thomas", "Chloe")
EN_FAMILY = ("Smith", "Miller", "Tan", "Wong", "Brown", "Lee", "Schmidt", "Ng", "Taylor", "Chan")

TITLES = ("总经理", "副总经理", "采购经理", "采购专员", "财务总监", "技术负责人", "行政主管",
          "董事长助理", "运营总监", "IT 经理", "项目经理", "市场部经理")
EN_TITLES = ("General Manager", "Purchasing Manager", "CFO", "Operations Director", "IT Manager")

# mobile prefixes of the three carriers (13x–19x)
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "153", "155", "156", "157", "158", "159", "166", "170", "176", "177",
                   "178", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191",
                   "198", "199")
PERSONAL_MAIL = ("qq.example.com", "163.example.com", "126.example.com", "mail.example.com")

# resident ID area codes for individual customers (区县级行政区划代码)
ID_AREAS = ("310101", "310115", "440305", "440106", "330106", "320505", "110105", "510104",
            "420106", "350203")

SOURCE_WEIGHTS = (("website", 25), ("referral", 20), ("trade_show", 15), ("cold_call", 15),
                  ("partner", 10), ("advertising", 8), ("import", 5), ("other", 2))
STATUS_WEIGHTS = (("potential", 50), ("won", 35), ("churned", 15))
METHOD_WEIGHTS = (("phone", 40), ("wechat", 25), ("visit", 15), ("email", 15), ("other", 5))

# follow-up texts: {topic}, {title}
TOPICS = ("年度采购计划", "产品报价", "新品试用", "合同续签", "付款进度", "交付周期", "售后问题",
          "技术方案", "年度框架协议", "样品测试结果")
EN_TOPICS = ("the annual purchase plan", "our quotation", "a product trial", "the contract renewal",
             "the payment schedule", "delivery lead times", "an after-sales issue")
CONTENT = {
    "phone": ("电话沟通{topic}，对方{title}比较关注价格和交付时间。",
              "致电了解{topic}的进展，客户表示下周内部开会讨论。",
              "电话回访，确认{topic}相关需求，客户希望先看详细方案。"),
    "wechat": ("微信发送{topic}相关资料，{title}已读并回复会尽快反馈。",
               "通过微信沟通{topic}，约好下次面谈时间。"),
    "visit": ("上门拜访{title}，现场演示产品并讨论{topic}。",
              "拜访客户工厂，参观产线，交流{topic}，对方技术团队参与。"),
    "email": ("邮件发送{topic}的正式文件，抄送{title}。",
              "邮件回复客户关于{topic}的问题，附上资质文件。"),
    "other": ("在行业展会上与{title}交流{topic}。",
              "参加客户组织的供应商大会，沟通{topic}。"),
}
EN_CONTENT = {
    "phone": ("Called the {title} about {topic}; they care most about price and lead time.",),
    "wechat": ("Sent material on {topic} over WeChat; the {title} will reply this week.",),
    "visit": ("Visited the {title} on site, demonstrated the product and discussed {topic}.",),
    "email": ("Emailed the formal documents on {topic} to the {title}.",),
    "other": ("Met the {title} at a trade show and talked about {topic}.",),
}
FEEDBACK = ("有兴趣，需内部审批", "预算偏紧，希望优惠", "对方案比较满意", "还在比较其他供应商",
            "希望先试用一个月", "暂无新需求", "要求缩短交付周期", "对售后响应速度满意")
EN_FEEDBACK = ("Interested, needs internal approval", "Asks for a discount",
               "Happy with the proposal", "Still comparing suppliers")
NEXT_STEPS = ("发送正式报价", "安排技术交流", "准备合同草案", "邀请参加新品发布会", "三天后电话回访",
              "安排产品演示", "跟进付款进度", "提交样品")
EN_NEXT_STEPS = ("Send the formal quotation", "Arrange a technical workshop", "Draft the contract",
                 "Call back in three days")
SERVICE_CONTENT = ("客服回访：了解产品使用情况，客户反馈运行稳定。",
                   "处理客户咨询：账号权限设置问题，已远程协助解决。",
                   "季度满意度回访，客户评价良好，提出培训需求。")
REMARKS = ("年采购额约 {n} 万元", "老客户转介绍", "决策链：采购经理 → 总经理", "对价格敏感",
           "重点客户，季度拜访", "有海外业务，需要英文资料")
