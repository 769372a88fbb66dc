-- Argo CD health check for microseg's ClusterSecurityPolicy (security.microseg.io). It reads the
-- kstatus conditions the operator writes: Healthy when Ready is True for the current generation,
-- Degraded when Stalled is True (a human must act: an invalid spec, a missing NSX group, NSX
-- rejecting the change), Progressing otherwise (not compiled or programmed yet, NSX unreachable).
local hs = {status = "Progressing", message = "Waiting for microseg to compile and program the policy"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.status.observedGeneration ~= obj.metadata.generation then
  hs.message = "Waiting for microseg to observe generation " .. obj.metadata.generation
  return hs
end
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Stalled" and c.status == "True" then
    return {status = "Degraded", message = c.message}
  end
end
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    if c.status == "True" then
      return {status = "Healthy", message = c.message}
    end
    hs.message = c.message
  end
end
return hs
