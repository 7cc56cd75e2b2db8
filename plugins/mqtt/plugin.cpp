#include <sluice/plugin.hpp>

#include "mqtt_publish.hpp"
#include "mqtt_source.hpp"

using namespace sluice::mqtt;

SLUICE_PLUGIN("mqtt", "1.0.0", "MQTT through libmosquitto: mqtt_source, mqtt_publish",
              sluice::describe<MqttSource>(), sluice::describe<MqttPublish>())
