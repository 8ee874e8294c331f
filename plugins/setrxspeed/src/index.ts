// setrxspeed (l2tpns's setrxspeed.so): when a login is allowed and the LAC sent no Rx Connect
// Speed, fill one in from its Tx Connect Speed, for the ADSL products whose LACs send only that
// (256 -> 64, 512 -> 128, 1500 -> 256, the values as the LAC sends them). Control thread.
import { API_VERSION, PLUGIN_RET_OK, type Plugin } from "@lnsd/plugin-api";

/** l2tpns setrxspeed: Tx Connect Speed -> the Rx Connect Speed to assume. */
export const RX_FOR_TX: ReadonlyMap<number, number> = new Map([
  [256, 64],
  [512, 128],
  [1500, 256],
]);

export const plugin: Plugin = {
  apiVersion: API_VERSION,
  name: "setrxspeed",
  description: "Fill in a missing Rx Connect Speed from the Tx Connect Speed",
  hooks: {
    post_auth: (p, api) => {
      if (!p.authAllowed) return PLUGIN_RET_OK;
      if (p.rxConnectSpeed !== undefined && p.rxConnectSpeed !== 0) return PLUGIN_RET_OK; // the LAC sent one
      const rx = RX_FOR_TX.get(p.txConnectSpeed ?? 0);
      if (rx !== undefined) {
        p.rxConnectSpeed = rx;
        api.log("debug", `Rx Connect Speed set to ${rx} (Tx Connect Speed ${p.txConnectSpeed ?? 0})`, p.session.id);
      }
      return PLUGIN_RET_OK;
    },
  },
};
