//! Conversation Services in the store.

use super::change::Change;
use super::model::Service;
use super::selection::{PageRequest, Selection};
use super::{Decision, ServiceScope, Store, StoreError, fresh};
use crate::sid::{AccountSid, ChatServiceSid};

impl Store {
    /// Creates a service named `friendly_name`.
    pub fn create_service(&self, account: AccountSid, friendly_name: String) -> Result<Service, StoreError> {
        self.write(account, |tenant, sids, now| {
            let sid = fresh(sids, ChatServiceSid::from_bits, |sid| tenant.services().contains(sid));
            let service = Service { sid, friendly_name: friendly_name.into(), date_created: now, date_updated: now };
            Ok(Decision::one(Change::PutService { account, service: service.clone() }, service))
        })
    }

    /// The service `sid` of this account.
    pub fn fetch_service(&self, account: AccountSid, sid: ChatServiceSid) -> Result<Service, StoreError> {
        self.read(account, |tenant| {
            tenant.services().get(&sid).map(|data| data.service().clone()).ok_or(StoreError::NotFound)
        })
    }

    /// A page of the account's services, oldest (the default one) first.
    /// The SID of the service `scope` names, if it exists.
    pub fn service_sid(&self, account: AccountSid, scope: ServiceScope) -> Result<ChatServiceSid, StoreError> {
        self.read(account, |tenant| Ok(tenant.service(scope)?.sid()))
    }

    pub fn list_services(&self, account: AccountSid, request: &PageRequest) -> Selection<Service> {
        self.read(account, |tenant| tenant.services().select(request, |_| true).map(|data| data.service().clone()))
    }

    /// Deletes a service with all its conversations and messages.
    pub fn delete_service(&self, account: AccountSid, sid: ChatServiceSid) -> Result<(), StoreError> {
        self.write(account, |tenant, _, _| {
            if sid == tenant.default_service() {
                return Err(StoreError::DefaultServiceUndeletable);
            }
            if !tenant.services().contains(&sid) {
                return Err(StoreError::NotFound);
            }
            Ok(Decision::one(Change::DeleteService { account, service: sid }, ()))
        })
    }
}
