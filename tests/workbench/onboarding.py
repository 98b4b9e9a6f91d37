"""Zhangjiagang's onboarding as data: which words of the report become which clause, and its tests.

Shared by the service tests and the browser test, so both prove the same onboarding."""

from __future__ import annotations

SOURCE = "zhangjiagang-2017-report.txt"
RULESET = "zjg-workbench"

# (kind, title, the exact words selected in the report, derive settings or None)
CLAUSES = [
    ("S", "干事创业中出现失误或未达预期目标", "在干事创业过程中出现失误、错误或未达到预期目标,造成负面影响和损失", None),
    ("P", "没有明令禁止、符合大政方针和决策部署",
     "现行法律法规和上级没有明令禁止,符合党和国家大政方针,符合市委、市政府决策部署", None),
    ("P", "执行民主决策程序", "除处置突发事件外,严格执行民主决策程序,重大改革创新项目还需经过调研论证、风险评估、合法性审查", None),
    ("P", "没有谋取不正当利益", "没有为当事人、他人或单位谋取不正当利益,没有故意损害公共利益或他人合法权益", None),
    ("P", "未在同一问题上重复出现失误", "未在同一工作、同一问题上重复出现失误且造成较大损失或较坏影响",
     {"derive_from": "repeat_same_matter", "derive_if_true": "", "derive_if_false": "met"}),
    ("P", "主动挽回损失、消除不良影响", "主动挽回损失、消除不良影响", None),
    ("P", "未造成重特大事故或严重上访事件",
     "未直接造成重特大安全责任事故或严重环境污染、生态破坏责任事故,或引发严重集体上访、越级上访事件", None),
]
SOFT = "容错免责一般应同时具备6项“前置条件”"

# The shipped worked examples as test rows: (name, conduct date, findings by short id, facts, verdict, decisive)
NO_FACTS = None
TESTS = [
    ("陈某环保专项行动——予以容错", "2017-12-01",
     {"P1": "met", "P2": "met", "P3": "met", "P5": "met", "P6": "met", "S1": "met"},
     {"loss_amount": 0, "prior_same_matter": []}, "tolerable", ["S1"]),
    ("同一问题重复失误并造成较大损失——不予容错", "2018-06-01",
     {"P1": "met", "P2": "met", "P3": "met", "P4": "not_met", "P5": "met", "P6": "met", "S1": "met"},
     {"loss_amount": 0, "prior_same_matter": [{"case": "前案", "date": "2017-09-01", "measure": None,
                                               "measure_date": None}]}, "not_tolerable", ["P4"]),
    ("突破多条红线——不予容错", "2018-08-01",
     {"P1": "not_met", "P2": "not_met", "P3": "not_met", "P4": "met", "P5": "not_met", "P6": "not_met",
      "S1": "not_met"}, NO_FACTS, "not_tolerable", ["P1", "P2", "P3", "P5", "P6", "S1"]),
]
