import type { SimCamera, Subscription } from './camera.ts';
import { messageXml, type QueuedMessage } from './render.ts';
import { fault, ok, type Reply } from './soap.ts';
import { isoTime, readTerminationTime, str, x, type Node } from './xml.ts';

/**
 * The events service: PullPoint subscriptions with real termination times
 * (a subscription ends when its time is up unless renewed; PullMessages does
 * not extend it, as on Axis firmware), long-poll PullMessages, Renew,
 * Unsubscribe and SetSynchronizationPoint.
 */
const DEFAULT_LIFETIME_MS = 60_000;
const MIN_LIFETIME_MS = 10_000;
const MAX_LIFETIME_MS = 24 * 3600_000;

function times(cam: SimCamera, s: Subscription): string {
  const now = cam.now();
  return `<wsnt:CurrentTime>${isoTime(now)}</wsnt:CurrentTime><wsnt:TerminationTime>${isoTime(now + (s.terminatesAt - cam.clock.now()))}</wsnt:TerminationTime>`;
}

function lifetime(cam: SimCamera, v: string | undefined): number | Reply {
  if (v === undefined || v === '') return DEFAULT_LIFETIME_MS;
  const ms = readTerminationTime(v, cam.now());
  if (ms === null || ms <= 0) return fault('Sender', ['wsrf:UnacceptableTerminationTimeFault'], `termination time ${JSON.stringify(v)} is not acceptable`);
  return Math.min(MAX_LIFETIME_MS, Math.max(MIN_LIFETIME_MS, ms));
}

export function handleEvents(cam: SimCamera, op: string, body: Node): Reply | null {
  switch (op) {
    case 'CreatePullPointSubscription': {
      const life = lifetime(cam, str(body, 'InitialTerminationTime'));
      if (typeof life !== 'number') return life;
      const s = cam.createSubscription(life);
      if (s === 'cap') {
        return fault(
          'Receiver',
          ['ter:Action', 'ter:MaxPullPoints'],
          'Reached the maximum number of subscriptions',
          '<wsnt:SubscribeCreationFailedFault><wsrf:Timestamp>' + isoTime(cam.now()) + '</wsrf:Timestamp></wsnt:SubscribeCreationFailedFault>',
        );
      }
      return ok(
        `<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa:Address>${x(cam.subscriptionUrl(s.id))}</wsa:Address>` +
          `</tev:SubscriptionReference>${times(cam, s)}</tev:CreatePullPointSubscriptionResponse>`,
        'http://www.onvif.org/ver10/events/wsdl/EventPortType/CreatePullPointSubscriptionResponse',
      );
    }
    case 'GetServiceCapabilities':
      return ok(
        `<tev:GetServiceCapabilitiesResponse><tev:Capabilities WSSubscriptionPolicySupport="false" WSPullPointSupport="true" ` +
          `WSPausableSubscriptionManagerInterfaceSupport="false" MaxNotificationProducers="0" MaxPullPoints="${cam.faults.maxSubscriptions}" ` +
          `PersistentNotificationStorage="false"/></tev:GetServiceCapabilitiesResponse>`,
      );
    case 'GetEventProperties':
      return ok(
        `<tev:GetEventPropertiesResponse><tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>` +
          `<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet><wstop:TopicSet/>` +
          `<wsnt:TopicExpressionDialect>http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet</wsnt:TopicExpressionDialect>` +
          `<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>` +
          `<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation></tev:GetEventPropertiesResponse>`,
      );
    default:
      return null;
  }
}

const unknownSubscription = (id: string) =>
  fault('Sender', ['wsrf:ResourceUnknownFault'], `no subscription ${id} (it ended or was never created)`, '<wsrf:ResourceUnknownFault/>');

/** Operations on one subscription (its own address). A pull may answer later: it returns a promise. */
export function handleSubscription(cam: SimCamera, id: string, op: string, body: Node, onClientGone: (fn: () => void) => void): Reply | Promise<Reply> {
  const s = cam.subscriptions.get(id);
  if (!s) return unknownSubscription(id);
  switch (op) {
    case 'PullMessages': {
      const timeout = readTerminationTime(str(body, 'Timeout') ?? 'PT10S', cam.now());
      const limit = Number(str(body, 'MessageLimit') ?? '1');
      if (timeout === null || timeout < 0 || !Number.isInteger(limit) || limit < 1) {
        return fault('Sender', ['ter:InvalidArgVal'], 'PullMessages needs a Timeout (xs:duration) and a positive MessageLimit');
      }
      return new Promise<Reply>((resolve) => {
        const respond = (messages: QueuedMessage[]) => resolve(pullResponse(cam, s, messages));
        const accepted = cam.pull(s, limit, timeout, respond);
        if (accepted) onClientGone(() => cam.cancelPull(s, respond));
        if (!accepted) {
          resolve(
            fault(
              'Receiver',
              ['ter:Action'],
              'UnableToGetMessages: a PullMessages request is already pending on this subscription',
              '<tev:PullMessagesFaultResponse/>',
            ),
          );
        }
      });
    }
    case 'Renew': {
      const life = lifetime(cam, str(body, 'TerminationTime'));
      if (typeof life !== 'number') return life;
      cam.renew(s, life);
      return ok(`<wsnt:RenewResponse>${times(cam, s)}</wsnt:RenewResponse>`, 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewResponse');
    }
    case 'Unsubscribe':
      cam.unsubscribe(s);
      return ok('<wsnt:UnsubscribeResponse/>', 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeResponse');
    case 'SetSynchronizationPoint':
      cam.sync(s);
      return ok('<tev:SetSynchronizationPointResponse/>');
    default:
      return fault('Receiver', ['ter:ActionNotSupported'], `${op} is not an operation of a pull point`);
  }
}

function pullResponse(cam: SimCamera, s: Subscription, messages: QueuedMessage[]): Reply {
  if (!cam.subscriptions.has(s.id) && !messages.length) return unknownSubscription(s.id);
  const address = cam.subscriptionUrl(s.id);
  return ok(
    `<tev:PullMessagesResponse>${times(cam, s)}${messages.map((m) => messageXml(m, address)).join('')}</tev:PullMessagesResponse>`,
    'http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesResponse',
  );
}
