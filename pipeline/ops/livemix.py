"""A realistic live mix for benchmarks: what a room sounds like, most of it ordinary host talk.

Hosts spend most of a stream greeting, sizing, pricing, answering questions and pointing at
links; a claim is the exception. The mix is ordinary talk made from templates of host speech with
a seeded generator (greetings, sizes, shipping, colours, materials, prices, questions, links,
thanks), with about one segment in twenty a claim drawn from the dev corpus's violations. The same
seed gives the same texts on every machine, so a benchmark is rerunnable.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from pipeline.settings import PROJECT_ROOT

DEV_CORPUS = PROJECT_ROOT / "tests" / "data" / "dev_corpus.jsonl"
CLAIM_SHARE = 0.05
SEED = 20261201

_SLOTS: dict[str, tuple[str, ...]] = {
    "greet": ("家人们", "宝宝们", "姐妹们", "兄弟们", "朋友们", "新进来的宝宝", "直播间的家人们", "老粉们"),
    "time": ("晚上好", "下午好", "早上好", "中午好", "大家好"),
    "name": ("小满", "阿杰", "主播", "我", "小七", "丽丽", "老王"),
    "product": ("这件毛衣", "这条裤子", "这个锅", "这款面霜", "这个枕头", "这双鞋", "这个保温杯", "这件外套",
                "这条围巾", "这个收纳盒", "这款洗衣液", "这个背包", "这件卫衣", "这套床品", "这个台灯",
                "这盒坚果", "这箱牛奶", "这款洗面奶", "这个电饭煲", "这件羽绒服"),
    "color": ("黑色", "白色", "灰色", "燕麦色", "雾霾蓝", "酒红色", "奶白色", "卡其色", "藏青色", "浅粉色",
              "墨绿色", "焦糖色"),
    "size": ("S码", "M码", "L码", "XL码", "均码", "三十六码", "三十八码", "四十码", "大号", "小号"),
    "height": ("一米五五", "一米六", "一米六五", "一米七", "一米七五", "一米八"),
    "weight": ("九十斤", "一百斤", "一百一十斤", "一百二十斤", "一百三十斤", "一百五十斤"),
    "price": ("九块九", "十九块九", "二十九", "三十九", "四十九", "五十九", "六十九", "七十九", "八十九",
              "九十九", "一百二十九", "一百五十九", "一百九十九", "两百四十九", "29.9", "39", "59", "99", "129"),
    "count": ("两件", "三件", "两盒", "三瓶", "一箱", "两个", "四双"),
    "link": ("一号链接", "二号链接", "三号链接", "五号链接", "八号链接", "小黄车第一个", "左下角购物车",
             "十二号链接"),
    "material": ("棉的", "羊毛混纺的", "聚酯纤维的", "真皮的", "不锈钢的", "陶瓷的", "实木的", "硅胶的",
                 "涤纶的", "尼龙的"),
    "place": ("广东", "浙江", "江苏", "山东", "福建", "河北", "新疆", "云南", "四川"),
    "days": ("两天", "三天", "四十八小时", "七十二小时", "一周"),
    "number": ("一", "二", "三", "五", "六", "八", "十"),
    "ask": ("尺码", "颜色", "发货时间", "怎么洗", "能不能机洗", "有没有赠品", "什么时候上链接", "是几号链接"),
    "viewer": ("小鱼", "momo", "阳光", "七七", "小猫咪", "晴天", "大橙子", "木木"),
}
_TEMPLATES: tuple[str, ...] = (
    "{greet}{time} {name}来了",
    "{greet}{time} 欢迎来到直播间",
    "欢迎{viewer}进来 {greet}点点关注",
    "新来的{greet}先点个关注 待会儿有福袋",
    "{product}今天有{color}和{color}两个颜色",
    "{product}一共{number}个颜色 {color}卖得比较快",
    "我{height} {weight} 穿的是{size}",
    "{height}左右的穿{size}刚好 胖一点的拿大一码",
    "{size}和{size}都还有 别的码数卖完了",
    "肩宽的姐妹拿{size} 平时穿{size}的拿{size}",
    "{product}是{material} 摸起来挺舒服的",
    "面料是{material} 可以直接机洗",
    "{product}今天直播间{price} 拍{count}再减十块",
    "到手价{price} 想要的直接拍",
    "{product}在{link} 大家别拍错了",
    "想要{color}的拍{link}",
    "{link}是{color} {link}是{color}",
    "点一下{link} 直接下单就可以",
    "今天下单{days}内发货 从{place}发出",
    "我们是{place}的工厂 发货比较快",
    "包邮的 偏远地区除外 新疆西藏要补运费",
    "七天无理由退换 运费险都给你们买好了",
    "有问{ask}的 {name}一个一个回答",
    "{viewer}问{ask} 我给你看一下",
    "想要的扣{number} 扣{number}的我给你们上库存",
    "扣{number}的宝宝 {number}号链接马上上",
    "谢谢{viewer}的小心心 谢谢{viewer}的点赞",
    "感谢{viewer}送的礼物 爱你们",
    "{greet}稍等一下 我换一件给你们看",
    "这个{color}上身特别显白 拍照也好看",
    "{product}洗了不会缩水 我自己穿了一年了",
    "后面那个{color}的也可以 你们喜欢哪个颜色打在公屏上",
    "库存不多了 {count}一起拍更划算",
    "拍{count}的我们多送一个小礼品",
    "这个价格只有今天直播间有 明天就恢复原来的价",
    "我们家是做了{number}年的老店了 大家可以看看评价",
    "{greet}帮我点点赞 点到一万我们抽奖",
    "福袋开了 还没点的赶紧点",
    "我先喝口水 {greet}等我一下",
    "下一个给你们上{product}",
    "{product}容量挺大的 一家{number}口够用",
    "尺码表在详情页 你们对着买",
    "这个是{material} 不起球不掉色",
    "问发货的 今天拍的{days}内都能发",
    "{viewer}你要{size}就拍{size} 没问题的",
    "我身上这件是{color}{size} 大家看一下效果",
    "收到货有什么问题直接找客服",
    "{greet}我们休息十分钟 马上回来",
    "今天最后一轮福利了 {product}{price}",
    "{count}{price} 相当于一件不到{price}",
)


@dataclass(frozen=True)
class Line:
    text: str
    category: str | None
    claim: bool


def ordinary_talk(count: int, seed: int = SEED) -> list[str]:
    """`count` distinct sentences of ordinary host talk (the templates filled at random)."""
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    while len(seen) < count:
        template = rng.choice(_TEMPLATES)
        text = template
        while "{" in text:
            start = text.index("{")
            end = text.index("}", start)
            text = text[:start] + rng.choice(_SLOTS[text[start + 1 : end]]) + text[end + 1 :]
        seen[text] = None
    return list(seen)


def dev_claims() -> list[tuple[str, str | None]]:
    items = [json.loads(line) for line in DEV_CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(i["text"], i.get("category")) for i in items if i["label"] == "violation" and not i.get("listing")]


def live_mix(segments: int, seed: int = SEED, distinct: int = 2000) -> list[Line]:
    """`segments` lines of a live room: ordinary talk drawn from `distinct` sentences, and a claim
    from the dev corpus for about one in twenty."""
    rng = random.Random(seed + 1)
    talk = ordinary_talk(distinct, seed)
    claims = dev_claims()
    lines = []
    for _ in range(segments):
        if rng.random() < CLAIM_SHARE:
            text, category = rng.choice(claims)
            lines.append(Line(text, category, True))
        else:
            lines.append(Line(rng.choice(talk), None, False))
    return lines


def live_events(count: int, tag: str, first_ms: int, every_ms: int, rooms: int = 50) -> list[dict[str, object]]:
    """The live mix as transcript events of `rooms` rooms (one product each), said in turn every
    `every_ms` from `first_ms`; ids are `<tag>-<n>`."""
    return [
        {"type": "transcript", "event_id": f"{tag}-{i}", "room_id": f"room-{i % rooms}",
         "product_id": f"p-{i % rooms}", "ts": first_ms + i * every_ms, "text": line.text, "category": line.category}
        for i, line in enumerate(live_mix(count))
    ]  # fmt: skip
