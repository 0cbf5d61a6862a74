"""The pipeline plugin's actions and their defaults per built-in role."""

from __future__ import annotations

from crm_core.declarations import Action

ENTITY = "pipeline.opportunity"
A, M, R = "admin", "sales_manager", "sales_rep"

ACTIONS: list[Action] = [
    Action("pipeline.read", "查看销售机会", "Read opportunities", entity=ENTITY,
           defaults={A: "all", M: "team", R: "own"}),
    Action("pipeline.create", "新建销售机会", "Create opportunities", entity=ENTITY,
           defaults={A: "all", M: "team", R: "own"}),
    Action("pipeline.update", "编辑与推进销售机会", "Edit and move opportunities", entity=ENTITY,
           defaults={A: "all", M: "team", R: "own"}),
    Action("pipeline.delete", "删除销售机会", "Delete opportunities", entity=ENTITY,
           defaults={A: "all", M: "team"}),
    Action("pipeline.approve", "审批大额销售机会", "Approve large opportunities", entity=ENTITY,
           defaults={A: "all", M: "team"}),
    Action("pipeline.manage", "管理销售流程与阶段", "Manage pipelines and stages",
           defaults={A: True}),
]
