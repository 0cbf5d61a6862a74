"""Word lists for synthetic Chinese CRM data (names, companies, places, industries).

Weights are rough shares, not statistics; they only make the data look like a real book of
business (many 有限公司 in 华东, a long tail of 字号, common surnames far more frequent).
"""

from __future__ import annotations

# (surname, pinyin, weight) — the common ones first; a few compound surnames at the end.
SURNAMES: list[tuple[str, str, float]] = [
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.7), ("刘", "liu", 5.4),
    ("陈", "chen", 4.5), ("杨", "yang", 3.1), ("黄", "huang", 2.5), ("赵", "zhao", 2.3),
    ("吴", "wu", 2.0), ("周", "zhou", 1.9), ("徐", "xu", 1.6), ("孙", "sun", 1.5),
    ("马", "ma", 1.5), ("朱", "zhu", 1.3), ("胡", "hu", 1.3), ("郭", "guo", 1.2),
    ("何", "he", 1.2), ("高", "gao", 1.1), ("林", "lin", 1.1), ("罗", "luo", 1.0),
    ("郑", "zheng", 1.0), ("梁", "liang", 0.9), ("谢", "xie", 0.8), ("宋", "song", 0.8),
    ("唐", "tang", 0.8), ("许", "xu", 0.7), ("韩", "han", 0.7), ("冯", "feng", 0.7),
    ("邓", "deng", 0.7), ("曹", "cao", 0.6), ("彭", "peng", 0.6), ("曾", "zeng", 0.6),
    ("肖", "xiao", 0.6), ("田", "tian", 0.5), ("董", "dong", 0.5), ("袁", "yuan", 0.5),
    ("潘", "pan", 0.5), ("于", "yu", 0.5), ("蒋", "jiang", 0.5), ("蔡", "cai", 0.5),
    ("余", "yu", 0.5), ("杜", "du", 0.4), ("叶", "ye", 0.4), ("程", "cheng", 0.4),
    ("苏", "su", 0.4), ("魏", "wei", 0.4), ("吕", "lv", 0.4), ("丁", "ding", 0.4),
    ("任", "ren", 0.4), ("沈", "shen", 0.4), ("姚", "yao", 0.3), ("卢", "lu", 0.3),
    ("姜", "jiang", 0.3), ("崔", "cui", 0.3), ("钟", "zhong", 0.3), ("谭", "tan", 0.3),
    ("陆", "lu", 0.3), ("汪", "wang", 0.3), ("范", "fan", 0.3), ("金", "jin", 0.3),
    ("石", "shi", 0.3), ("廖", "liao", 0.3), ("贾", "jia", 0.3), ("夏", "xia", 0.3),
    ("韦", "wei", 0.3), ("付", "fu", 0.3), ("方", "fang", 0.2), ("白", "bai", 0.2),
    ("邹", "zou", 0.2), ("孟", "meng", 0.2), ("熊", "xiong", 0.2), ("秦", "qin", 0.2),
    ("邱", "qiu", 0.2), ("江", "jiang", 0.2), ("尹", "yin", 0.2), ("薛", "xue", 0.2),
    ("闫", "yan", 0.2), ("段", "duan", 0.2), ("雷", "lei", 0.2), ("侯", "hou", 0.2),
    ("龙", "long", 0.2), ("史", "shi", 0.2), ("陶", "tao", 0.2), ("黎", "li", 0.2),
    ("贺", "he", 0.2), ("顾", "gu", 0.2), ("毛", "mao", 0.2), ("郝", "hao", 0.2),
    ("龚", "gong", 0.2), ("邵", "shao", 0.2), ("万", "wan", 0.2), ("钱", "qian", 0.2),
    ("严", "yan", 0.2), ("覃", "qin", 0.1), ("武", "wu", 0.1), ("戴", "dai", 0.1),
    ("莫", "mo", 0.1), ("孔", "kong", 0.1), ("向", "xiang", 0.1), ("汤", "tang", 0.1),
    ("欧阳", "ouyang", 0.05), ("司马", "sima", 0.02), ("上官", "shangguan", 0.02),
    ("诸葛", "zhuge", 0.01), ("令狐", "linghu", 0.01),
]

# Characters of given names with their pinyin.
GIVEN: list[tuple[str, str]] = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"),
    ("建", "jian"), ("国", "guo"), ("文", "wen"), ("辉", "hui"), ("玲", "ling"), ("红", "hong"),
    ("鹏", "peng"), ("宇", "yu"), ("浩", "hao"), ("欣", "xin"), ("婷", "ting"), ("雪", "xue"),
    ("琳", "lin"), ("晨", "chen"), ("博", "bo"), ("昊", "hao"), ("子", "zi"), ("梓", "zi"),
    ("涵", "han"), ("轩", "xuan"), ("怡", "yi"), ("思", "si"), ("嘉", "jia"), ("雨", "yu"),
    ("佳", "jia"), ("俊", "jun"), ("峰", "feng"), ("斌", "bin"), ("波", "bo"), ("辰", "chen"),
    ("凯", "kai"), ("亮", "liang"), ("倩", "qian"), ("颖", "ying"), ("慧", "hui"), ("丹", "dan"),
    ("萍", "ping"), ("晶", "jing"), ("阳", "yang"), ("飞", "fei"), ("志", "zhi"), ("海", "hai"),
    ("东", "dong"), ("林", "lin"), ("龙", "long"), ("春", "chun"), ("燕", "yan"), ("玉", "yu"),
    ("兰", "lan"), ("梅", "mei"), ("云", "yun"), ("莉", "li"), ("宁", "ning"), ("帆", "fan"),
    ("鑫", "xin"), ("瑶", "yao"), ("琪", "qi"), ("晓", "xiao"), ("天", "tian"), ("一", "yi"),
    ("诗", "shi"), ("泽", "ze"), ("睿", "rui"), ("铭", "ming"), ("然", "ran"), ("欢", "huan"),
    ("鹤", "he"), ("振", "zhen"), ("荣", "rong"), ("德", "de"), ("成", "cheng"), ("新", "xin"),
    ("永", "yong"), ("健", "jian"), ("世", "shi"), ("立", "li"), ("家", "jia"), ("彬", "bin"),
    ("雯", "wen"), ("璐", "lu"), ("蕾", "lei"), ("薇", "wei"), ("悦", "yue"), ("珊", "shan"),
]

# Trade-name (字号) characters with pinyin; a 字号 is two (sometimes three) of them.
TRADE: list[tuple[str, str]] = [
    ("华", "hua"), ("信", "xin"), ("达", "da"), ("通", "tong"), ("恒", "heng"), ("泰", "tai"),
    ("鑫", "xin"), ("盛", "sheng"), ("隆", "long"), ("兴", "xing"), ("源", "yuan"), ("润", "run"),
    ("康", "kang"), ("瑞", "rui"), ("安", "an"), ("宏", "hong"), ("宇", "yu"), ("博", "bo"),
    ("远", "yuan"), ("嘉", "jia"), ("诚", "cheng"), ("和", "he"), ("顺", "shun"), ("丰", "feng"),
    ("汇", "hui"), ("金", "jin"), ("银", "yin"), ("德", "de"), ("天", "tian"), ("正", "zheng"),
    ("鼎", "ding"), ("创", "chuang"), ("智", "zhi"), ("联", "lian"), ("众", "zhong"),
    ("腾", "teng"), ("飞", "fei"), ("航", "hang"), ("星", "xing"), ("辰", "chen"), ("海", "hai"),
    ("峰", "feng"), ("锦", "jin"), ("绣", "xiu"), ("广", "guang"), ("永", "yong"),
    ("昌", "chang"), ("合", "he"), ("美", "mei"), ("佳", "jia"), ("优", "you"), ("卓", "zhuo"),
    ("越", "yue"), ("明", "ming"), ("辉", "hui"), ("光", "guang"), ("云", "yun"), ("龙", "long"),
    ("凤", "feng"), ("祥", "xiang"), ("福", "fu"), ("富", "fu"), ("友", "you"), ("邦", "bang"),
    ("赛", "sai"), ("迪", "di"), ("威", "wei"), ("力", "li"), ("特", "te"), ("奥", "ao"),
    ("凯", "kai"), ("捷", "jie"), ("斯", "si"), ("普", "pu"), ("惠", "hui"), ("万", "wan"),
    ("方", "fang"), ("元", "yuan"), ("亨", "heng"), ("利", "li"), ("启", "qi"), ("承", "cheng"),
    ("旭", "xu"), ("朗", "lang"), ("睿", "rui"), ("思", "si"), ("泽", "ze"), ("悦", "yue"),
    ("皓", "hao"), ("昊", "hao"), ("晟", "sheng"), ("弘", "hong"), ("坤", "kun"), ("乾", "qian"),
    ("豪", "hao"), ("骏", "jun"), ("驰", "chi"), ("彩", "cai"), ("虹", "hong"),
    ("蓝", "lan"), ("青", "qing"), ("绿", "lv"), ("紫", "zi"), ("宝", "bao"),
    ("玉", "yu"), ("晶", "jing"), ("石", "shi"), ("松", "song"), ("柏", "bai"), ("竹", "zhu"),
    ("梅", "mei"), ("兰", "lan"), ("荣", "rong"), ("盈", "ying"), ("裕", "yu"), ("益", "yi"),
    ("宁", "ning"), ("静", "jing"), ("雅", "ya"), ("致", "zhi"), ("扬", "yang"),
    ("帆", "fan"), ("鹏", "peng"), ("鹰", "ying"), ("麒", "qi"), ("麟", "lin"), ("轩", "xuan"),
    ("宸", "chen"), ("铭", "ming"), ("诺", "nuo"), ("立", "li"), ("基", "ji"), ("业", "ye"),
    ("精", "jing"), ("工", "gong"), ("本", "ben"), ("真", "zhen"), ("实", "shi"),
    ("义", "yi"), ("仁", "ren"), ("礼", "li"), ("中", "zhong"), ("东", "dong"), ("南", "nan"),
    ("西", "xi"), ("北", "bei"), ("新", "xin"), ("时", "shi"), ("代", "dai"), ("世", "shi"),
    ("纪", "ji"), ("环", "huan"), ("球", "qiu"), ("九", "jiu"), ("州", "zhou"), ("百", "bai"),
    ("川", "chuan"), ("江", "jiang"), ("河", "he"), ("山", "shan"), ("岳", "yue"), ("泉", "quan"),
]

# Region (as in crm_core.schemas.REGIONS) → (weight, cities with pinyin).
REGIONS: dict[str, tuple[float, list[tuple[str, str]]]] = {
    "华东": (34.0, [("上海", "shanghai"), ("南京", "nanjing"), ("苏州", "suzhou"), ("无锡", "wuxi"),
                   ("常州", "changzhou"), ("杭州", "hangzhou"), ("宁波", "ningbo"),
                   ("温州", "wenzhou"), ("绍兴", "shaoxing"), ("嘉兴", "jiaxing"),
                   ("合肥", "hefei"), ("芜湖", "wuhu"), ("福州", "fuzhou"), ("厦门", "xiamen"),
                   ("泉州", "quanzhou"), ("济南", "jinan"), ("青岛", "qingdao"), ("烟台", "yantai"),
                   ("潍坊", "weifang"), ("南昌", "nanchang")]),
    "华南": (20.0, [("广州", "guangzhou"), ("深圳", "shenzhen"), ("东莞", "dongguan"),
                   ("佛山", "foshan"), ("珠海", "zhuhai"), ("中山", "zhongshan"),
                   ("汕头", "shantou"), ("惠州", "huizhou"), ("南宁", "nanning"),
                   ("柳州", "liuzhou"), ("桂林", "guilin"), ("海口", "haikou"), ("三亚", "sanya")]),
    "华北": (15.0, [("北京", "beijing"), ("天津", "tianjin"), ("石家庄", "shijiazhuang"),
                   ("唐山", "tangshan"), ("保定", "baoding"), ("廊坊", "langfang"),
                   ("太原", "taiyuan"), ("大同", "datong"), ("呼和浩特", "huhehaote"),
                   ("包头", "baotou")]),
    "华中": (11.0, [("武汉", "wuhan"), ("宜昌", "yichang"), ("襄阳", "xiangyang"),
                   ("长沙", "changsha"), ("株洲", "zhuzhou"), ("岳阳", "yueyang"),
                   ("郑州", "zhengzhou"), ("洛阳", "luoyang"), ("开封", "kaifeng")]),
    "西南": (9.0, [("重庆", "chongqing"), ("成都", "chengdu"), ("绵阳", "mianyang"),
                  ("贵阳", "guiyang"), ("遵义", "zunyi"), ("昆明", "kunming"), ("大理", "dali"),
                  ("拉萨", "lasa")]),
    "西北": (4.5, [("西安", "xian"), ("宝鸡", "baoji"), ("兰州", "lanzhou"), ("银川", "yinchuan"),
                  ("西宁", "xining"), ("乌鲁木齐", "wulumuqi")]),
    "东北": (5.0, [("沈阳", "shenyang"), ("大连", "dalian"), ("鞍山", "anshan"),
                  ("长春", "changchun"), ("吉林", "jilin"), ("哈尔滨", "haerbin"),
                  ("大庆", "daqing")]),
    "港澳台": (1.0, [("香港", "hongkong"), ("澳门", "macau"), ("台北", "taipei")]),
    "海外": (0.5, [("新加坡", "singapore"), ("吉隆坡", "kualalumpur"), ("东京", "tokyo"),
                  ("首尔", "seoul"), ("曼谷", "bangkok"), ("悉尼", "sydney")]),
}

DISTRICTS = ("高新区", "经济开发区", "新区", "工业园区", "城区", "中心区", "滨江区", "开发区",
             "科技园", "自贸区")
ROADS = ("人民", "解放", "中山", "建设", "和平", "新华", "胜利", "长江", "黄河", "世纪", "科技",
         "创业", "发展", "迎宾", "文化", "光明", "学府", "金融", "纬一", "经二")

# GB/T 4754-2017 section letter → (weight, industry words used in company names).
INDUSTRIES: dict[str, tuple[float, list[str]]] = {
    "A": (2.0, ["农业", "生态农业", "种业", "养殖", "果蔬", "林业", "渔业"]),
    "B": (0.8, ["矿业", "矿产", "煤业", "石材"]),
    "C": (24.0, ["机械", "电子", "精密制造", "新材料", "化工", "纺织", "汽车零部件",
                 "医疗器械", "食品", "家具", "塑胶", "五金", "光电", "包装", "模具", "电气"]),
    "D": (1.5, ["电力", "能源", "燃气", "水务", "新能源"]),
    "E": (8.0, ["建设", "建筑工程", "装饰工程", "市政工程", "路桥", "钢结构"]),
    "F": (18.0, ["商贸", "贸易", "百货", "供应链", "进出口", "电子商务", "医药", "建材"]),
    "G": (5.0, ["物流", "运输", "仓储", "货运代理", "国际物流"]),
    "H": (3.0, ["餐饮管理", "酒店管理", "食品配送"]),
    "I": (12.0, ["科技", "信息技术", "软件", "网络科技", "数据科技", "智能科技", "云计算"]),
    "J": (2.0, ["投资", "资产管理", "融资租赁", "保险代理"]),
    "K": (3.0, ["房地产开发", "置业", "物业管理", "地产"]),
    "L": (9.0, ["商务咨询", "企业管理", "人力资源", "广告", "会展服务", "管理咨询"]),
    "M": (4.0, ["检测技术", "生物科技", "工程设计", "环境科技", "技术服务"]),
    "N": (1.5, ["环保", "环境工程", "园林绿化", "水利工程"]),
    "O": (2.0, ["家政服务", "汽车维修", "清洁服务", "美容美发"]),
    "P": (1.5, ["教育科技", "培训", "文化教育"]),
    "Q": (1.5, ["医疗", "健康管理", "养老服务"]),
    "R": (2.0, ["文化传媒", "影视", "体育发展", "文化传播"]),
    "S": (0.3, ["行业协会", "商会"]),
}

# Organisation form (suffix) → weight; associations (industry S) take no suffix.
SUFFIXES: list[tuple[str, float]] = [
    ("有限公司", 62.0), ("股份有限公司", 11.0), ("有限责任公司", 10.0), ("集团有限公司", 5.0),
    ("经营部", 4.0), ("商行", 3.0), ("工作室", 3.0), ("厂", 2.0),
]

TITLES = ("总经理", "副总经理", "董事长", "采购经理", "采购主管", "财务总监", "技术总监",
          "行政主管", "销售总监", "项目经理", "办公室主任", "运营经理", "总监助理", "法务经理")

# Mobile segments of the three carriers (and a few MVNO / newer ones).
MOBILE_PREFIXES = ("130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
                   "145", "147", "150", "151", "152", "153", "155", "156", "157", "158",
                   "159", "166", "170", "171", "173", "175", "176", "177", "178", "180",
                   "181", "182", "183", "184", "185", "186", "187", "188", "189", "191",
                   "193", "195", "198", "199")

MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "aliyun.com",
                "139.com", "outlook.com")

# (source, weight) — names as in crm_core.schemas.SOURCES.
SOURCES: list[tuple[str, float]] = [
    ("referral", 22.0), ("website", 18.0), ("trade_show", 14.0), ("cold_call", 14.0),
    ("advertising", 8.0), ("partner", 10.0), ("import", 9.0), ("other", 5.0),
]

STATUSES: list[tuple[str, float]] = [("potential", 58.0), ("won", 32.0), ("churned", 10.0)]

TEAM_NAMES = ("华东一部", "华东二部", "华南一部", "华南二部", "华北大区", "华中大区",
              "西南大区", "西北及东北", "大客户部", "渠道合作部")
