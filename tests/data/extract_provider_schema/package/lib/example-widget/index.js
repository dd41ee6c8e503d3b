"use strict";
// Hand-written fixture in the shape of a cdktn-generated resource module; the rule
// block's structs live in index-structs/ like those of very large generated types.
const structs0_1 = require("./index-structs/structs0");
class ExampleWidgetReplicasOutputReference extends cdktn.ComplexObject {
    // location - computed: true, optional: false, required: false
    get location() {
        return this.getStringAttribute('location');
    }
    // ready - computed: true, optional: false, required: false
    get ready() {
        return this.getBooleanAttribute('ready');
    }
}
exports.ExampleWidgetReplicasOutputReference = ExampleWidgetReplicasOutputReference;
class ExampleWidgetReplicasList extends cdktn.ComplexList {
    get(index) {
        return new ExampleWidgetReplicasOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
    }
}
exports.ExampleWidgetReplicasList = ExampleWidgetReplicasList;
class ExampleWidgetZonesOutputReference extends cdktn.ComplexObject {
    // name - computed: true, optional: false, required: false
    get name() {
        return this.getStringAttribute('name');
    }
    // ports - computed: true, optional: false, required: false
    get ports() {
        return this.getNumberListAttribute('ports');
    }
}
exports.ExampleWidgetZonesOutputReference = ExampleWidgetZonesOutputReference;
class ExampleWidgetZonesList extends cdktn.ComplexList {
    get(index) {
        return new ExampleWidgetZonesOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
    }
}
exports.ExampleWidgetZonesList = ExampleWidgetZonesList;
function exampleWidgetSettingsToHclTerraform(struct) {
    const attrs = {
        sizes: {
            value: cdktn.listMapperHcl(cdktn.numberToHclTerraform, false)(struct.sizes),
            isBlock: false,
            type: "list",
            storageClassType: "numberList",
        },
        tier: {
            value: cdktn.stringToHclTerraform(struct.tier),
            isBlock: false,
            type: "simple",
            storageClassType: "string",
        },
    };
    return attrs;
}
class ExampleWidgetSettingsOutputReference extends cdktn.ComplexObject {
    // effective_tier - computed: true, optional: false, required: false
    get effectiveTier() {
        return this.getStringAttribute('effective_tier');
    }
    // sizes - computed: false, optional: true, required: false
    _sizes;
    get sizes() {
        return this.getNumberListAttribute('sizes');
    }
    // tier - computed: false, optional: false, required: true
    _tier;
    get tier() {
        return this.getStringAttribute('tier');
    }
}
exports.ExampleWidgetSettingsOutputReference = ExampleWidgetSettingsOutputReference;
function exampleWidgetTimeoutsToHclTerraform(struct) {
    const attrs = {
        create: {
            value: cdktn.stringToHclTerraform(struct.create),
            isBlock: false,
            type: "simple",
            storageClassType: "string",
        },
    };
    return attrs;
}
class ExampleWidgetTimeoutsOutputReference extends cdktn.ComplexObject {
    // create - computed: false, optional: true, required: false
    _create;
    get create() {
        return this.getStringAttribute('create');
    }
}
exports.ExampleWidgetTimeoutsOutputReference = ExampleWidgetTimeoutsOutputReference;
class ExampleWidget extends cdktn.TerraformResource {
    static tfResourceType = "google_example_widget";
    constructor(scope, id, config) {
        super(scope, id, {
            terraformResourceType: 'google_example_widget',
            terraformGeneratorMetadata: {
                providerName: 'google',
                providerVersion: '9.9.9',
            },
        });
    }
    // effective_labels - computed: true, optional: false, required: false
    _effectiveLabels = new cdktn.StringMap(this, "effective_labels");
    get effectiveLabels() {
        return this._effectiveLabels;
    }
    // id - computed: true, optional: true, required: false
    _id;
    get id() {
        return this.getStringAttribute('id');
    }
    // labels - computed: false, optional: true, required: false
    _labels;
    get labels() {
        return this.getStringMapAttribute('labels');
    }
    // name - computed: false, optional: false, required: true
    _name;
    get name() {
        return this.getStringAttribute('name');
    }
    // project - computed: true, optional: true, required: false
    _project;
    get project() {
        return this.getStringAttribute('project');
    }
    // replicas - computed: true, optional: false, required: false
    _replicas = new ExampleWidgetReplicasList(this, "replicas", false);
    get replicas() {
        return this._replicas;
    }
    // self_link - computed: true, optional: false, required: false
    get selfLink() {
        return this.getStringAttribute('self_link');
    }
    // tags - computed: false, optional: true, required: false
    _tags;
    get tags() {
        return cdktn.Fn.tolist(this.getListAttribute('tags'));
    }
    // zones - computed: true, optional: false, required: false
    _zones = new ExampleWidgetZonesList(this, "zones", true);
    get zones() {
        return this._zones;
    }
    // rule - computed: false, optional: true, required: false
    _rule = new structs0_1.ExampleWidgetRuleList(this, "rule", false);
    get rule() {
        return this._rule;
    }
    // settings - computed: false, optional: false, required: true
    _settings = new ExampleWidgetSettingsOutputReference(this, "settings");
    get settings() {
        return this._settings;
    }
    // timeouts - computed: false, optional: true, required: false
    _timeouts = new ExampleWidgetTimeoutsOutputReference(this, "timeouts");
    get timeouts() {
        return this._timeouts;
    }
    synthesizeHclAttributes() {
        const attrs = {
            id: {
                value: cdktn.stringToHclTerraform(this._id),
                isBlock: false,
                type: "simple",
                storageClassType: "string",
            },
            labels: {
                value: cdktn.hashMapperHcl(cdktn.stringToHclTerraform)(this._labels),
                isBlock: false,
                type: "map",
                storageClassType: "stringMap",
            },
            name: {
                value: cdktn.stringToHclTerraform(this._name),
                isBlock: false,
                type: "simple",
                storageClassType: "string",
            },
            project: {
                value: cdktn.stringToHclTerraform(this._project),
                isBlock: false,
                type: "simple",
                storageClassType: "string",
            },
            tags: {
                value: cdktn.listMapperHcl(cdktn.stringToHclTerraform, false)(this._tags),
                isBlock: false,
                type: "set",
                storageClassType: "stringList",
            },
            rule: {
                value: cdktn.listMapperHcl((0, structs0_1.exampleWidgetRuleToHclTerraform), true)(this._rule.internalValue),
                isBlock: true,
                type: "list",
                storageClassType: "ExampleWidgetRuleList",
            },
            settings: {
                value: exampleWidgetSettingsToHclTerraform(this._settings.internalValue),
                isBlock: true,
                type: "list",
                storageClassType: "ExampleWidgetSettingsList",
            },
            timeouts: {
                value: exampleWidgetTimeoutsToHclTerraform(this._timeouts.internalValue),
                isBlock: true,
                type: "struct",
                storageClassType: "ExampleWidgetTimeouts",
            },
        };
        return attrs;
    }
}
exports.ExampleWidget = ExampleWidget;
