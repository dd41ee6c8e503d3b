"use strict";
// Hand-written fixture: the split-out structs of the example-widget module.
function exampleWidgetRuleConditionToHclTerraform(struct) {
    const attrs = {
        age: {
            value: cdktn.numberToHclTerraform(struct.age),
            isBlock: false,
            type: "simple",
            storageClassType: "number",
        },
    };
    return attrs;
}
class ExampleWidgetRuleConditionOutputReference extends cdktn.ComplexObject {
    // age - computed: false, optional: true, required: false
    _age;
    get age() {
        return this.getNumberAttribute('age');
    }
}
exports.ExampleWidgetRuleConditionOutputReference = ExampleWidgetRuleConditionOutputReference;
function exampleWidgetRuleToHclTerraform(struct) {
    const attrs = {
        action: {
            value: cdktn.stringToHclTerraform(struct.action),
            isBlock: false,
            type: "simple",
            storageClassType: "string",
        },
        condition: {
            value: exampleWidgetRuleConditionToHclTerraform(struct.condition),
            isBlock: true,
            type: "set",
            storageClassType: "ExampleWidgetRuleConditionList",
        },
    };
    return attrs;
}
class ExampleWidgetRuleOutputReference extends cdktn.ComplexObject {
    // action - computed: false, optional: false, required: true
    _action;
    get action() {
        return this.getStringAttribute('action');
    }
    // condition - computed: false, optional: false, required: true
    _condition = new ExampleWidgetRuleConditionOutputReference(this, "condition");
    get condition() {
        return this._condition;
    }
}
exports.ExampleWidgetRuleOutputReference = ExampleWidgetRuleOutputReference;
class ExampleWidgetRuleList extends cdktn.ComplexList {
    get(index) {
        return new ExampleWidgetRuleOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
    }
}
exports.ExampleWidgetRuleList = ExampleWidgetRuleList;
