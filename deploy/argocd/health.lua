-- Argo CD health check for addon-operator.io Module and GlobalConfig objects.
-- Install it as resource.customizations.health.addon-operator.io_Module and
-- resource.customizations.health.addon-operator.io_GlobalConfig in argocd-cm (docs/gitops.md).
-- It reads the status the operator writes, following the kstatus conventions, first match wins:
--   no status yet, or status or Ready older than metadata.generation -> Progressing
--   Stalled=True (invalid settings, retries exhausted, unknown module) -> Degraded
--   Reconciling=True (pending, running, retrying a failure)             -> Progressing
--   phase Suspended (spec.suspend)                                      -> Suspended
--   Ready=True (deployed, or cleanly disabled: reason Disabled)         -> Healthy
--   phase Failed or Unknown (no such module on disk)                    -> Degraded
--   anything else                                                       -> Progressing
-- Only Lua base functions are used: Argo CD runs health scripts without the string library.

local function condition(status, kind)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function isTrue(c)
  return c ~= nil and c.status == "True"
end

local function describe(status, c, fallback)
  if status.message ~= nil and status.message ~= "" then
    return status.message
  end
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

local function health(o)
  local status = o.status
  if status == nil or status.observedGeneration == nil then
    return "Progressing", "Waiting for addon-operator to report a status"
  end
  local ready = condition(status, "Ready")
  local observed = status.observedGeneration
  if ready ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < observed then
    observed = ready.observedGeneration
  end
  local generation = nil
  if o.metadata ~= nil then
    generation = o.metadata.generation
  end
  if generation ~= nil and observed < generation then
    return "Progressing", "Waiting for addon-operator to observe generation " .. generation ..
      " (the status is for generation " .. observed .. ")"
  end
  local stalled = condition(status, "Stalled")
  if isTrue(stalled) then
    return "Degraded", describe(status, stalled, "Stalled")
  end
  local reconciling = condition(status, "Reconciling")
  if isTrue(reconciling) then
    return "Progressing", describe(status, reconciling, "Reconciling")
  end
  if status.phase == "Suspended" then
    return "Suspended", describe(status, ready, "Suspended")
  end
  if isTrue(ready) then
    return "Healthy", describe(status, ready, "Ready")
  end
  if status.phase == "Failed" or status.phase == "Unknown" then
    return "Degraded", describe(status, ready, "Phase " .. status.phase)
  end
  return "Progressing", describe(status, ready, "Waiting for Ready")
end

local hs = {}
hs.status, hs.message = health(obj)
return hs
