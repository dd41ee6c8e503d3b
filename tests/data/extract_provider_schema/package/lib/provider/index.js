"use strict";
// Hand-written fixture in the shape of a cdktn-generated provider module.
function googleProviderBatchingToHclTerraform(struct) {
    const attrs = {
        enable_batching: {
            value: cdktn.booleanToHclTerraform(struct.enableBatching),
            isBlock: false,
            type: "simple",
            storageClassType: "boolean",
        },
    };
    return attrs;
}
function googleProviderExternalCredentialsToHclTerraform(struct) {
    const attrs = {
        audience: {
            value: cdktn.stringToHclTerraform(struct.audience),
            isBlock: false,
            type: "simple",
            storageClassType: "string",
        },
    };
    return attrs;
}
class GoogleProvider extends cdktn.TerraformProvider {
    // alias - computed: false, optional: true, required: false
    _alias;
    get alias() {
        return this._alias;
    }
    // project - computed: false, optional: true, required: false
    _project;
    get project() {
        return this._project;
    }
    // scopes - computed: false, optional: true, required: false
    _scopes;
    get scopes() {
        return this._scopes;
    }
    // batching - computed: false, optional: true, required: false
    _batching;
    get batching() {
        return this._batching;
    }
    // external_credentials - computed: false, optional: true, required: false
    _externalCredentials;
    get externalCredentials() {
        return this._externalCredentials;
    }
    synthesizeHclAttributes() {
        const attrs = {
            project: {
                value: cdktn.stringToHclTerraform(this._project),
                isBlock: false,
                type: "simple",
                storageClassType: "string",
            },
            scopes: {
                value: cdktn.listMapperHcl(cdktn.stringToHclTerraform, false)(this._scopes),
                isBlock: false,
                type: "list",
                storageClassType: "stringList",
            },
            alias: {
                value: cdktn.stringToHclTerraform(this._alias),
                isBlock: false,
                type: "simple",
                storageClassType: "string",
            },
            batching: {
                value: cdktn.listMapperHcl(googleProviderBatchingToHclTerraform, true)(this._batching),
                isBlock: true,
                type: "list",
                storageClassType: "GoogleProviderBatchingList",
            },
            external_credentials: {
                value: cdktn.listMapperHcl(googleProviderExternalCredentialsToHclTerraform, true)(this._externalCredentials),
                isBlock: true,
                type: "list",
                storageClassType: "GoogleProviderExternalCredentialsList",
            },
        };
        return attrs;
    }
}
exports.GoogleProvider = GoogleProvider;
