"""The policy clauses the follow-through rests on, quoted verbatim from the source texts.

Each quote is a substring of the document in ``rules/rulesets/sources/`` (a test checks it); the
pages and the README show them with their citations. What the documents do not give (when a return
visit falls due) is configuration, labelled 配置 wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

ZJK = "zhangjiakou-2019-regulation.txt"
HOHHOT = "hohhot-discipline-commission-measures.txt"
ZJK_TITLE = "张家口市激励干部担当干事的规定"
HOHHOT_TITLE = "呼和浩特市纪委监委关于激励干部担当作为的实施办法"


@dataclass(frozen=True)
class Citation:
    source: str
    title: str
    article: str
    quote: str

    def __str__(self) -> str:
        return f"{self.title} {self.article}:「{self.quote}」"


VISITS = (
    Citation(ZJK, ZJK_TITLE, "第十一条(五)", "建立回访机制,加强对被问责干部的后续管理、关心帮助,防止“一问了之”。"),
    Citation(HOHHOT, HOHHOT_TITLE, "第19条", "開展好受處分干部回訪工作"),
)
CLARIFICATION = (
    Citation(ZJK, ZJK_TITLE, "第十一条(三)", "及时查清事实、作出结论,在一定范围内通报,并定期公布不实举报的案例,"
                                            "消除负面影响,为干部正名撑腰。坚决查处诬告陷害、恶意炒作行为"),
    Citation(HOHHOT, HOHHOT_TITLE, "第18条", "“誰辦理、誰澄清”"),
    Citation(HOHHOT, HOHHOT_TITLE, "第17条", "依紀依法追究誣告陷害人的責任"),
)
FAILURE = (
    Citation(ZJK, ZJK_TITLE, "第十一条(四)", "应予“容错”的,但追责问责机关不作为、慢作为、不敢担当,未予“容错”的,"
                                            "要对相关责任人进行问责。"),
)
ALL = VISITS + CLARIFICATION + FAILURE
