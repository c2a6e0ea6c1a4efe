//! The built-in event catalog: every event type Logto's `hookEvents` lists, grouped
//! the way the Logto console groups them.
//!
//! Each entry carries a one-line description and an example payload. An example
//! is a JSON object holding the fields the producer (Logto) sends, using Logto's
//! field names, but without the three fields this service adds to every delivery
//! itself: `hookId`, `event` and `createdAt`.
//!
//! There are three kinds of payload:
//! - interaction events (`Post*`) carry the sign-in experience context:
//!   `interactionEvent`, `sessionId`, `userAgent`, `userId`, `userIp`, `user` and
//!   `application`;
//! - data events (`User.*`, `Role.*`, `Scope.*`, `Organization*.*`,
//!   `TrustedDevice.*`) carry the request context (`userAgent`, `ip`, and for
//!   Management API calls `path`, `method`, `status`, `params`, `matchedRoute`)
//!   plus `data`, the entity as the API returned it (absent when the API returns
//!   no body, e.g. on deletes);
//! - security events (`Identifier.Lockout`, `Message.RateLimited`,
//!   `Grant.LimitExceeded`) carry the request context plus their own fields.

/// One built-in event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventType {
    pub name: &'static str,
    pub description: &'static str,
    /// Example payload: a JSON object with the producer's fields (Logto's names).
    pub example: &'static str,
}

impl EventType {
    /// The example payload as JSON (every example parses; a test checks it).
    pub fn example_json(&self) -> serde_json::Value {
        serde_json::from_str(self.example).unwrap_or_default()
    }
}

/// A console group of event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventGroup {
    pub name: &'static str,
    pub events: &'static [EventType],
}

/// Shorthand for a catalog entry.
const fn ev(name: &'static str, description: &'static str, example: &'static str) -> EventType {
    EventType {
        name,
        description,
        example,
    }
}

// ---------------------------------------------------------------------------
// User interaction
// ---------------------------------------------------------------------------

const USER_INTERACTION: &[EventType] = &[
    ev(
        "PostRegister",
        "A user created a new account through the sign-in experience",
        r#"{
  "interactionEvent": "Register",
  "sessionId": "Zq3L8vX1aN0rT5bK7cW2e",
  "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "userId": "u3v9k2m1x0qa",
  "userIp": "203.0.113.7",
  "user": {
    "id": "u3v9k2m1x0qa",
    "username": null,
    "primaryEmail": "jane@example.com",
    "primaryPhone": null,
    "name": null,
    "avatar": null,
    "customData": {},
    "identities": {},
    "lastSignInAt": 1767225600000,
    "createdAt": 1767225600000,
    "updatedAt": 1767225600000,
    "profile": {},
    "applicationId": "m4k8x2q7v1c9t0b3p6zwe",
    "isSuspended": false
  },
  "application": {
    "id": "m4k8x2q7v1c9t0b3p6zwe",
    "type": "SPA",
    "name": "Acme Web",
    "description": "Customer-facing single page app"
  }
}"#,
    ),
    ev(
        "PostSignIn",
        "A user signed in through the sign-in experience",
        r#"{
  "interactionEvent": "SignIn",
  "sessionId": "Hc7pR2yW9mE4uJ0sD6fKa",
  "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "userId": "u3v9k2m1x0qa",
  "userIp": "203.0.113.7",
  "user": {
    "id": "u3v9k2m1x0qa",
    "username": "jane",
    "primaryEmail": "jane@example.com",
    "primaryPhone": "+14155550123",
    "name": "Jane Doe",
    "avatar": "https://cdn.example.com/avatars/jane.png",
    "customData": {
      "plan": "pro"
    },
    "identities": {
      "google": {
        "userId": "108352641987450612345",
        "details": {
          "email": "jane@example.com",
          "name": "Jane Doe"
        }
      }
    },
    "lastSignInAt": 1769904000000,
    "createdAt": 1767225600000,
    "updatedAt": 1769904000000,
    "profile": {
      "givenName": "Jane",
      "familyName": "Doe"
    },
    "applicationId": "m4k8x2q7v1c9t0b3p6zwe",
    "isSuspended": false
  },
  "application": {
    "id": "m4k8x2q7v1c9t0b3p6zwe",
    "type": "SPA",
    "name": "Acme Web",
    "description": "Customer-facing single page app"
  }
}"#,
    ),
    ev(
        "PostResetPassword",
        "A user reset their password through the forgot-password flow",
        r#"{
  "interactionEvent": "ForgotPassword",
  "sessionId": "Bn5tG8qL1xV3oP7wZ2hYc",
  "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  "userId": "u3v9k2m1x0qa",
  "userIp": "198.51.100.23",
  "user": {
    "id": "u3v9k2m1x0qa",
    "username": "jane",
    "primaryEmail": "jane@example.com",
    "primaryPhone": null,
    "name": "Jane Doe",
    "avatar": null,
    "customData": {},
    "identities": {},
    "lastSignInAt": 1769904000000,
    "createdAt": 1767225600000,
    "updatedAt": 1770076800000,
    "profile": {},
    "applicationId": "m4k8x2q7v1c9t0b3p6zwe",
    "isSuspended": false
  },
  "application": {
    "id": "m4k8x2q7v1c9t0b3p6zwe",
    "type": "SPA",
    "name": "Acme Web",
    "description": "Customer-facing single page app"
  }
}"#,
    ),
    ev(
        "PostSignInAdaptiveMfaTriggered",
        "Adaptive MFA asked a user for extra verification during sign-in",
        r#"{
  "interactionEvent": "SignIn",
  "sessionId": "Wd4kN9rF2jS6aM0yQ8tLb",
  "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "userId": "u3v9k2m1x0qa",
  "userIp": "192.0.2.44",
  "user": {
    "id": "u3v9k2m1x0qa",
    "username": "jane",
    "primaryEmail": "jane@example.com",
    "primaryPhone": null,
    "name": "Jane Doe",
    "avatar": null,
    "customData": {},
    "identities": {},
    "lastSignInAt": 1769904000000,
    "createdAt": 1767225600000,
    "updatedAt": 1769904000000,
    "profile": {},
    "applicationId": "m4k8x2q7v1c9t0b3p6zwe",
    "isSuspended": false
  },
  "application": {
    "id": "m4k8x2q7v1c9t0b3p6zwe",
    "type": "SPA",
    "name": "Acme Web",
    "description": "Customer-facing single page app"
  },
  "adaptiveMfaResult": {
    "requiresMfa": true,
    "triggeredRules": [
      {
        "rule": "new_country",
        "details": {
          "currentCountry": "BR",
          "windowDays": 180,
          "recentCountries": [
            {
              "country": "US",
              "lastSignInAt": 1769904000000
            }
          ]
        }
      }
    ]
  }
}"#,
    ),
];

// ---------------------------------------------------------------------------
// User
// ---------------------------------------------------------------------------

const USER: &[EventType] = &[
    ev(
        "User.Created",
        "A new user account was created",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/users",
  "method": "POST",
  "status": 200,
  "params": {},
  "matchedRoute": "/users",
  "data": {
    "id": "u3v9k2m1x0qa",
    "username": "jane",
    "primaryEmail": "jane@example.com",
    "primaryPhone": null,
    "name": "Jane Doe",
    "avatar": null,
    "customData": {},
    "identities": {},
    "lastSignInAt": null,
    "createdAt": 1767225600000,
    "updatedAt": 1767225600000,
    "profile": {},
    "applicationId": null,
    "isSuspended": false,
    "hasPassword": true
  }
}"#,
    ),
    ev(
        "User.Deleted",
        "A user account was deleted",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/users/u3v9k2m1x0qa",
  "method": "DELETE",
  "status": 204,
  "params": {
    "userId": "u3v9k2m1x0qa"
  },
  "matchedRoute": "/users/:userId",
  "data": {
    "id": "u3v9k2m1x0qa",
    "username": "jane",
    "primaryEmail": "jane@example.com",
    "primaryPhone": null,
    "name": "Jane Doe",
    "avatar": null,
    "customData": {},
    "identities": {},
    "lastSignInAt": 1769904000000,
    "createdAt": 1767225600000,
    "updatedAt": 1769904000000,
    "profile": {},
    "applicationId": "m4k8x2q7v1c9t0b3p6zwe",
    "isSuspended": false
  }
}"#,
    ),
    ev(
        "User.Data.Updated",
        "A user's profile data was updated (e.g. email, avatar, custom data, identities)",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/users/u3v9k2m1x0qa",
  "method": "PATCH",
  "status": 200,
  "params": {
    "userId": "u3v9k2m1x0qa"
  },
  "matchedRoute": "/users/:userId",
  "data": {
    "id": "u3v9k2m1x0qa",
    "username": "jane",
    "primaryEmail": "jane.doe@example.com",
    "primaryPhone": null,
    "name": "Jane Doe",
    "avatar": "https://cdn.example.com/avatars/jane.png",
    "customData": {
      "plan": "pro"
    },
    "identities": {},
    "lastSignInAt": 1769904000000,
    "createdAt": 1767225600000,
    "updatedAt": 1770163200000,
    "profile": {},
    "applicationId": "m4k8x2q7v1c9t0b3p6zwe",
    "isSuspended": false,
    "hasPassword": true
  }
}"#,
    ),
    ev(
        "User.SuspensionStatus.Updated",
        "A user was suspended or reactivated",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/users/u3v9k2m1x0qa/is-suspended",
  "method": "PATCH",
  "status": 200,
  "params": {
    "userId": "u3v9k2m1x0qa"
  },
  "matchedRoute": "/users/:userId/is-suspended",
  "data": {
    "id": "u3v9k2m1x0qa",
    "username": "jane",
    "primaryEmail": "jane@example.com",
    "primaryPhone": null,
    "name": "Jane Doe",
    "avatar": null,
    "customData": {},
    "identities": {},
    "lastSignInAt": 1769904000000,
    "createdAt": 1767225600000,
    "updatedAt": 1770249600000,
    "profile": {},
    "applicationId": "m4k8x2q7v1c9t0b3p6zwe",
    "isSuspended": true,
    "hasPassword": true
  }
}"#,
    ),
];

// ---------------------------------------------------------------------------
// Trusted device (the request IP is deliberately left out of these payloads)
// ---------------------------------------------------------------------------

const TRUSTED_DEVICE: &[EventType] = &[
    ev(
        "TrustedDevice.Created",
        "A user's device was remembered as trusted for MFA",
        r#"{
  "interactionEvent": "SignIn",
  "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "applicationId": "m4k8x2q7v1c9t0b3p6zwe",
  "sessionId": "Hc7pR2yW9mE4uJ0sD6fKa",
  "application": {
    "id": "m4k8x2q7v1c9t0b3p6zwe",
    "type": "SPA",
    "name": "Acme Web",
    "description": "Customer-facing single page app"
  },
  "data": {
    "id": "td6q1m9k3x8v0c4t2b7pr",
    "userId": "u3v9k2m1x0qa",
    "expiresAt": 1772496000000
  }
}"#,
    ),
    ev(
        "TrustedDevice.Deleted",
        "A trusted device was revoked",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "path": "/users/u3v9k2m1x0qa/trusted-devices/td6q1m9k3x8v0c4t2b7pr",
  "method": "DELETE",
  "status": 204,
  "params": {
    "userId": "u3v9k2m1x0qa",
    "trustedDeviceId": "td6q1m9k3x8v0c4t2b7pr"
  },
  "matchedRoute": "/users/:userId/trusted-devices/:trustedDeviceId",
  "data": {
    "id": "td6q1m9k3x8v0c4t2b7pr",
    "userId": "u3v9k2m1x0qa",
    "expiresAt": 1772496000000
  }
}"#,
    ),
];

// ---------------------------------------------------------------------------
// Role
// ---------------------------------------------------------------------------

const ROLE: &[EventType] = &[
    ev(
        "Role.Created",
        "A new role was created",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/roles",
  "method": "POST",
  "status": 200,
  "params": {},
  "matchedRoute": "/roles",
  "data": {
    "tenantId": "default",
    "id": "rl4f8t2kq9x0m7c3v1b6n",
    "name": "editor",
    "description": "Can edit articles",
    "type": "User",
    "isDefault": false
  }
}"#,
    ),
    ev(
        "Role.Deleted",
        "A role was deleted",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/roles/rl4f8t2kq9x0m7c3v1b6n",
  "method": "DELETE",
  "status": 204,
  "params": {
    "id": "rl4f8t2kq9x0m7c3v1b6n"
  },
  "matchedRoute": "/roles/:id"
}"#,
    ),
    ev(
        "Role.Data.Updated",
        "A role's data was updated (e.g. name, description, default status)",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/roles/rl4f8t2kq9x0m7c3v1b6n",
  "method": "PATCH",
  "status": 200,
  "params": {
    "id": "rl4f8t2kq9x0m7c3v1b6n"
  },
  "matchedRoute": "/roles/:id",
  "data": {
    "tenantId": "default",
    "id": "rl4f8t2kq9x0m7c3v1b6n",
    "name": "senior-editor",
    "description": "Can edit and publish articles",
    "type": "User",
    "isDefault": true
  }
}"#,
    ),
    ev(
        "Role.Scopes.Updated",
        "Permissions were assigned to or removed from a role",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/roles",
  "method": "POST",
  "status": 200,
  "params": {},
  "matchedRoute": "/roles",
  "roleId": "rl4f8t2kq9x0m7c3v1b6n",
  "data": [
    {
      "tenantId": "default",
      "id": "sc7p2x9m4k0v8q1t6b3wd",
      "resourceId": "rs2m8k4x0q7v1c9t5b3pe",
      "name": "write:articles",
      "description": "Create and edit articles",
      "createdAt": 1767225600000
    }
  ]
}"#,
    ),
];

// ---------------------------------------------------------------------------
// Permission (API resource scope)
// ---------------------------------------------------------------------------

const PERMISSION: &[EventType] = &[
    ev(
        "Scope.Created",
        "A new API permission was created",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/resources/rs2m8k4x0q7v1c9t5b3pe/scopes",
  "method": "POST",
  "status": 201,
  "params": {
    "resourceId": "rs2m8k4x0q7v1c9t5b3pe"
  },
  "matchedRoute": "/resources/:resourceId/scopes",
  "data": {
    "tenantId": "default",
    "id": "sc7p2x9m4k0v8q1t6b3wd",
    "resourceId": "rs2m8k4x0q7v1c9t5b3pe",
    "name": "write:articles",
    "description": "Create and edit articles",
    "createdAt": 1767225600000
  }
}"#,
    ),
    ev(
        "Scope.Deleted",
        "An API permission was deleted",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/resources/rs2m8k4x0q7v1c9t5b3pe/scopes/sc7p2x9m4k0v8q1t6b3wd",
  "method": "DELETE",
  "status": 204,
  "params": {
    "resourceId": "rs2m8k4x0q7v1c9t5b3pe",
    "scopeId": "sc7p2x9m4k0v8q1t6b3wd"
  },
  "matchedRoute": "/resources/:resourceId/scopes/:scopeId"
}"#,
    ),
    ev(
        "Scope.Data.Updated",
        "An API permission's data was updated (e.g. name, description)",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/resources/rs2m8k4x0q7v1c9t5b3pe/scopes/sc7p2x9m4k0v8q1t6b3wd",
  "method": "PATCH",
  "status": 200,
  "params": {
    "resourceId": "rs2m8k4x0q7v1c9t5b3pe",
    "scopeId": "sc7p2x9m4k0v8q1t6b3wd"
  },
  "matchedRoute": "/resources/:resourceId/scopes/:scopeId",
  "data": {
    "tenantId": "default",
    "id": "sc7p2x9m4k0v8q1t6b3wd",
    "resourceId": "rs2m8k4x0q7v1c9t5b3pe",
    "name": "write:articles",
    "description": "Create, edit and archive articles",
    "createdAt": 1767225600000
  }
}"#,
    ),
];

// ---------------------------------------------------------------------------
// Organization
// ---------------------------------------------------------------------------

const ORGANIZATION: &[EventType] = &[
    ev(
        "Organization.Created",
        "A new organization was created",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/organizations",
  "method": "POST",
  "status": 201,
  "params": {},
  "matchedRoute": "/organizations",
  "data": {
    "tenantId": "default",
    "id": "og5t1k8x3m0q9v2c7b4ad",
    "name": "Acme Corp",
    "description": "Acme's main workspace",
    "customData": {},
    "isMfaRequired": false,
    "color": {},
    "branding": {},
    "customCss": null,
    "createdAt": 1767225600000
  }
}"#,
    ),
    ev(
        "Organization.Deleted",
        "An organization was deleted",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/organizations/og5t1k8x3m0q9v2c7b4ad",
  "method": "DELETE",
  "status": 204,
  "params": {
    "id": "og5t1k8x3m0q9v2c7b4ad"
  },
  "matchedRoute": "/organizations/:id"
}"#,
    ),
    ev(
        "Organization.Data.Updated",
        "An organization's data was updated (e.g. name, description, custom data)",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/organizations/og5t1k8x3m0q9v2c7b4ad",
  "method": "PATCH",
  "status": 200,
  "params": {
    "id": "og5t1k8x3m0q9v2c7b4ad"
  },
  "matchedRoute": "/organizations/:id",
  "data": {
    "tenantId": "default",
    "id": "og5t1k8x3m0q9v2c7b4ad",
    "name": "Acme Corporation",
    "description": "Acme's main workspace",
    "customData": {
      "billingTier": "enterprise"
    },
    "isMfaRequired": true,
    "color": {},
    "branding": {},
    "customCss": null,
    "createdAt": 1767225600000
  }
}"#,
    ),
    ev(
        "Organization.Membership.Updated",
        "Members (users or applications) were added to or removed from an organization",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/organizations/og5t1k8x3m0q9v2c7b4ad/users",
  "method": "POST",
  "status": 201,
  "params": {
    "id": "og5t1k8x3m0q9v2c7b4ad"
  },
  "matchedRoute": "/organizations/:id/users",
  "organizationId": "og5t1k8x3m0q9v2c7b4ad",
  "addedUserIds": [
    "u3v9k2m1x0qa",
    "p7d2w5n8c4hs"
  ]
}"#,
    ),
];

// ---------------------------------------------------------------------------
// Organization role
// ---------------------------------------------------------------------------

const ORGANIZATION_ROLE: &[EventType] = &[
    ev(
        "OrganizationRole.Created",
        "A new organization role was created",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/organization-roles",
  "method": "POST",
  "status": 201,
  "params": {},
  "matchedRoute": "/organization-roles",
  "data": {
    "tenantId": "default",
    "id": "or9k2m7x4q1v8c3t0b6pz",
    "name": "admin",
    "description": "Manages the organization",
    "type": "User"
  }
}"#,
    ),
    ev(
        "OrganizationRole.Deleted",
        "An organization role was deleted",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/organization-roles/or9k2m7x4q1v8c3t0b6pz",
  "method": "DELETE",
  "status": 204,
  "params": {
    "id": "or9k2m7x4q1v8c3t0b6pz"
  },
  "matchedRoute": "/organization-roles/:id"
}"#,
    ),
    ev(
        "OrganizationRole.Data.Updated",
        "An organization role's data was updated (e.g. name, description)",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/organization-roles/or9k2m7x4q1v8c3t0b6pz",
  "method": "PATCH",
  "status": 200,
  "params": {
    "id": "or9k2m7x4q1v8c3t0b6pz"
  },
  "matchedRoute": "/organization-roles/:id",
  "data": {
    "tenantId": "default",
    "id": "or9k2m7x4q1v8c3t0b6pz",
    "name": "owner",
    "description": "Full control over the organization",
    "type": "User"
  }
}"#,
    ),
    ev(
        "OrganizationRole.Scopes.Updated",
        "Organization permissions were assigned to or removed from an organization role",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/organization-roles/or9k2m7x4q1v8c3t0b6pz/scopes",
  "method": "PUT",
  "status": 204,
  "params": {
    "id": "or9k2m7x4q1v8c3t0b6pz"
  },
  "matchedRoute": "/organization-roles/:id/scopes"
}"#,
    ),
];

// ---------------------------------------------------------------------------
// Organization permission
// ---------------------------------------------------------------------------

const ORGANIZATION_PERMISSION: &[EventType] = &[
    ev(
        "OrganizationScope.Created",
        "A new organization permission was created",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/organization-scopes",
  "method": "POST",
  "status": 201,
  "params": {},
  "matchedRoute": "/organization-scopes",
  "data": {
    "tenantId": "default",
    "id": "os3x8m1k6q0v9c2t7b4ne",
    "name": "invite:member",
    "description": "Invite new members to the organization"
  }
}"#,
    ),
    ev(
        "OrganizationScope.Deleted",
        "An organization permission was deleted",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/organization-scopes/os3x8m1k6q0v9c2t7b4ne",
  "method": "DELETE",
  "status": 204,
  "params": {
    "id": "os3x8m1k6q0v9c2t7b4ne"
  },
  "matchedRoute": "/organization-scopes/:id"
}"#,
    ),
    ev(
        "OrganizationScope.Data.Updated",
        "An organization permission's data was updated (e.g. name, description)",
        r#"{
  "userAgent": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "ip": "203.0.113.7",
  "path": "/organization-scopes/os3x8m1k6q0v9c2t7b4ne",
  "method": "PATCH",
  "status": 200,
  "params": {
    "id": "os3x8m1k6q0v9c2t7b4ne"
  },
  "matchedRoute": "/organization-scopes/:id",
  "data": {
    "tenantId": "default",
    "id": "os3x8m1k6q0v9c2t7b4ne",
    "name": "invite:member",
    "description": "Invite and remove organization members"
  }
}"#,
    ),
];

// ---------------------------------------------------------------------------
// Security
// ---------------------------------------------------------------------------

const SECURITY: &[EventType] = &[
    ev(
        "Identifier.Lockout",
        "An identifier was locked out after too many failed verification attempts",
        r#"{
  "interactionEvent": "SignIn",
  "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "applicationId": "m4k8x2q7v1c9t0b3p6zwe",
  "sessionId": "Hc7pR2yW9mE4uJ0sD6fKa",
  "ip": "203.0.113.7",
  "application": {
    "id": "m4k8x2q7v1c9t0b3p6zwe",
    "type": "SPA",
    "name": "Acme Web",
    "description": "Customer-facing single page app"
  },
  "type": "email",
  "value": "jane@example.com"
}"#,
    ),
    ev(
        "Message.RateLimited",
        "A verification message was not sent because the message rate limit was reached",
        r#"{
  "interactionEvent": "SignIn",
  "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "applicationId": "m4k8x2q7v1c9t0b3p6zwe",
  "sessionId": "Hc7pR2yW9mE4uJ0sD6fKa",
  "ip": "203.0.113.7",
  "application": {
    "id": "m4k8x2q7v1c9t0b3p6zwe",
    "type": "SPA",
    "name": "Acme Web",
    "description": "Customer-facing single page app"
  },
  "action": "VerificationCodeSend",
  "recipient": "jane@example.com"
}"#,
    ),
    ev(
        "Grant.LimitExceeded",
        "A user's oldest grants for an app were revoked to stay within its maximum allowed grants",
        r#"{
  "ip": "203.0.113.7",
  "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "application": {
    "id": "m4k8x2q7v1c9t0b3p6zwe",
    "type": "SPA",
    "name": "Acme Web",
    "description": "Customer-facing single page app"
  },
  "userId": "u3v9k2m1x0qa",
  "applicationId": "m4k8x2q7v1c9t0b3p6zwe",
  "revokedGrantIds": [
    "gR8mK2xV5qT1nC7wB4zLp"
  ],
  "maxAllowedGrants": 3,
  "preRevocationActiveGrantCount": 4
}"#,
    ),
];

/// Every built-in group, in console order.
pub const CATALOG: &[EventGroup] = &[
    EventGroup {
        name: "User interaction",
        events: USER_INTERACTION,
    },
    EventGroup {
        name: "User",
        events: USER,
    },
    EventGroup {
        name: "Trusted device",
        events: TRUSTED_DEVICE,
    },
    EventGroup {
        name: "Role",
        events: ROLE,
    },
    EventGroup {
        name: "Permission",
        events: PERMISSION,
    },
    EventGroup {
        name: "Organization",
        events: ORGANIZATION,
    },
    EventGroup {
        name: "Organization role",
        events: ORGANIZATION_ROLE,
    },
    EventGroup {
        name: "Organization permission",
        events: ORGANIZATION_PERMISSION,
    },
    EventGroup {
        name: "Security",
        events: SECURITY,
    },
];

/// Every built-in event type, in catalog order.
pub fn builtin_events() -> impl Iterator<Item = &'static EventType> {
    CATALOG.iter().flat_map(|group| group.events.iter())
}

/// The built-in event type with this exact name.
pub fn find_event(name: &str) -> Option<&'static EventType> {
    builtin_events().find(|event| event.name == name)
}

/// Whether `name` is a well-formed event name: dot-separated segments of a
/// letter then letters and digits,
/// `^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|segment| {
            let mut chars = segment.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(builtin_events().count(), 31);
        assert_eq!(CATALOG.len(), 9);
        assert!(CATALOG.iter().all(|group| !group.events.is_empty()));
    }

    #[test]
    fn names_are_unique() {
        let names: Vec<&str> = builtin_events().map(|event| event.name).collect();
        for (i, name) in names.iter().enumerate() {
            assert!(!names[i + 1..].contains(name), "duplicate event {name}");
        }
        let groups: Vec<&str> = CATALOG.iter().map(|group| group.name).collect();
        for (i, name) in groups.iter().enumerate() {
            assert!(!groups[i + 1..].contains(name), "duplicate group {name}");
        }
    }

    #[test]
    fn names_are_well_formed() {
        for event in builtin_events() {
            assert!(is_valid_name(event.name), "bad name {}", event.name);
            assert!(
                !event.description.is_empty(),
                "{} has no description",
                event.name
            );
            assert!(
                !event.description.contains('\n'),
                "{}: multi-line",
                event.name
            );
        }
    }

    #[test]
    fn name_checker_rejects_bad_names() {
        for bad in [
            "",
            ".",
            "User.",
            ".User",
            "User..Created",
            "1User",
            "User.1x",
            "Us-er",
            "Us er",
        ] {
            assert!(!is_valid_name(bad), "accepted {bad:?}");
        }
        for good in ["PostSignIn", "User.Data.Updated", "A1.b2"] {
            assert!(is_valid_name(good), "rejected {good:?}");
        }
    }

    #[test]
    fn examples_are_objects_without_service_fields() {
        for event in builtin_events() {
            let value: serde_json::Value = serde_json::from_str(event.example)
                .unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", event.name));
            let object = value
                .as_object()
                .unwrap_or_else(|| panic!("{}: example is not an object", event.name));
            for field in ["hookId", "event", "createdAt"] {
                assert!(
                    !object.contains_key(field),
                    "{}: example has {field}",
                    event.name
                );
            }
        }
    }

    #[test]
    fn lookups() {
        let created = find_event("User.Created").expect("User.Created");
        assert_eq!(created.name, "User.Created");
        for unknown in ["", "user.created", "User", "User.Created ", "Nope.Nothing"] {
            assert!(find_event(unknown).is_none(), "found {unknown:?}");
        }
    }

    #[test]
    fn catalog_order() {
        let first: Vec<&str> = CATALOG.iter().map(|g| g.events[0].name).collect();
        assert_eq!(
            first,
            [
                "PostRegister",
                "User.Created",
                "TrustedDevice.Created",
                "Role.Created",
                "Scope.Created",
                "Organization.Created",
                "OrganizationRole.Created",
                "OrganizationScope.Created",
                "Identifier.Lockout",
            ]
        );
        assert_eq!(
            builtin_events().last().map(|e| e.name),
            Some("Grant.LimitExceeded")
        );
    }
}
