#ifndef GITLAB_GATEWAY_SERVICE_LIMITS_GCRA_SCRIPT_H_
#define GITLAB_GATEWAY_SERVICE_LIMITS_GCRA_SCRIPT_H_

namespace gitlab_gateway::limits {

// The shared quota of one credential, in one Redis hash (KEYS[1]), changed
// only by this script (one round trip per admission, atomic in Redis).
// GCRA per limit: field t<i> is limit i's theoretical arrival time (TAT);
// a call may go at s when s >= TAT - tau (tau = (burst - 1) * interval), and
// then TAT = max(TAT, s) + interval. Reservations: a call that must wait is
// given its future slot (when within max_wait), so waiting calls are spread
// exactly instead of polling. Times are Redis' clock (TIME) in microseconds,
// so replicas' clocks do not matter; answers are durations from "now".
//
// Fields: p = paused until, e = pause epoch (bumped by each new pause),
// a = interval advertised by RateLimit-Limit, s/su/sr = interval, end and
// remaining calls of a RateLimit-Remaining/-Reset spread.
//
// ARGV: op, x, y, z, n, then n pairs (interval_us, burst); interval 0 =
// unlimited. The first limit is the per-minute one that GitLab's
// advertisements cap.
//   admit   x = max wait (us)           -> {granted 0/1, wait_us, epoch}
//   pause   x = duration (us)           -> {1, pause left (us), epoch}
//   observe x = limit per minute or -1, y = remaining or -1,
//           z = reset in (us) or -1     -> {1, pause left (us), epoch}
// The key expires a minute after its state stops mattering.
inline constexpr char kGcraScript[] = R"lua(
local key = KEYS[1]
local op = ARGV[1]
local x, y, z = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n = tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local h = redis.call('HMGET', key, 'p', 'e', 'a', 's', 'su', 'sr')
local pause = tonumber(h[1]) or 0
local epoch = tonumber(h[2]) or 0
local adv = tonumber(h[3]) or 0
local spread = tonumber(h[4]) or 0
local spread_until = tonumber(h[5]) or 0
local spread_left = tonumber(h[6]) or 0
if spread_until <= now then spread = 0 end
local tats = {}
for i = 1, n do tats[i] = tonumber(redis.call('HGET', key, 't' .. i)) or 0 end

local function shape(i)
  local T = tonumber(ARGV[4 + 2 * i])
  local burst = tonumber(ARGV[5 + 2 * i])
  if T <= 0 then return 0, 0 end
  if i == 1 then
    if adv > T then T = adv end
    if spread > T then
      T = spread
      if spread_left < burst then burst = spread_left end
    end
  end
  if burst < 1 then burst = 1 end
  return T, (burst - 1) * T
end

local function start_pause(untl)
  if untl <= pause then return end
  pause = untl
  epoch = epoch + 1
  redis.call('HSET', key, 'p', pause, 'e', epoch)
  for i = 1, n do
    local T, tau = shape(i)
    if T > 0 then
      -- No burst after a pause: the first call goes one interval after it.
      tats[i] = math.max(tats[i], pause + T + tau)
      redis.call('HSET', key, 't' .. i, tats[i])
    end
  end
end

local function expire()
  local horizon = math.max(pause, spread_until, now)
  for i = 1, n do horizon = math.max(horizon, tats[i]) end
  redis.call('PEXPIRE', key, math.floor((horizon - now) / 1000) + 60000)
end

if op == 'admit' then
  local start = math.max(now, pause)
  local send = start
  for i = 1, n do
    local T, tau = shape(i)
    if T > 0 then
      tats[i] = math.max(tats[i], start)
      send = math.max(send, tats[i] - tau)
    end
  end
  local wait = send - now
  if wait > x then return {0, wait, epoch} end
  for i = 1, n do
    local T, tau = shape(i)
    if T > 0 then
      tats[i] = math.max(tats[i], send) + T
      redis.call('HSET', key, 't' .. i, tats[i])
    end
  end
  expire()
  return {1, wait, epoch}
elseif op == 'pause' then
  start_pause(now + x)
elseif op == 'observe' then
  if x > 0 then
    adv = 60000000 / x
    redis.call('HSET', key, 'a', adv)
  end
  if y >= 0 and z > 0 then
    z = math.min(z, 3600000000)
    if y == 0 then
      start_pause(now + z)
    else
      spread, spread_until, spread_left = z / y, now + z, y
      redis.call('HSET', key, 's', spread, 'su', spread_until, 'sr', y)
    end
  end
else
  return redis.error_reply('gcra: unknown op ' .. tostring(op))
end
expire()
return {1, math.max(pause - now, 0), epoch}
)lua";

}  // namespace gitlab_gateway::limits

#endif  // GITLAB_GATEWAY_SERVICE_LIMITS_GCRA_SCRIPT_H_
