"use strict";
// Hand-written fixture in the shape of a cdktn-generated data-source module.
class DataGoogleExampleWidgetSettingsOutputReference extends cdktn.ComplexObject {
    // tier - computed: true, optional: false, required: false
    get tier() {
        return this.getStringAttribute('tier');
    }
}
exports.DataGoogleExampleWidgetSettingsOutputReference = DataGoogleExampleWidgetSettingsOutputReference;
class DataGoogleExampleWidgetSettingsList extends cdktn.ComplexList {
    get(index) {
        return new DataGoogleExampleWidgetSettingsOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
    }
}
exports.DataGoogleExampleWidgetSettingsList = DataGoogleExampleWidgetSettingsList;
class DataGoogleExampleWidget extends cdktn.TerraformDataSource {
    constructor(scope, id, config) {
        super(scope, id, {
            terraformResourceType: 'google_example_widget',
        });
    }
    // name - computed: false, optional: false, required: true
    _name;
    get name() {
        return this.getStringAttribute('name');
    }
    // settings - computed: true, optional: false, required: false
    _settings = new DataGoogleExampleWidgetSettingsList(this, "settings", false);
    get settings() {
        return this._settings;
    }
    synthesizeHclAttributes() {
        const attrs = {
            name: {
                value: cdktn.stringToHclTerraform(this._name),
                isBlock: false,
                type: "simple",
                storageClassType: "string",
            },
        };
        return attrs;
    }
}
exports.DataGoogleExampleWidget = DataGoogleExampleWidget;
