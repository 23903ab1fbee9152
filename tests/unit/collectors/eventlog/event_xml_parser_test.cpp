#include "collectors/eventlog/event_xml_parser.h"

#include <gtest/gtest.h>
